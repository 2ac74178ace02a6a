"""Lesson 04's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs import GymEnv
from torchrl.modules import AdditiveGaussianModule, EGreedyModule

from rltutor.exercises import lesson04 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("04_exploration_modules")


@pytest.fixture
def env():
    env = GymEnv("Pendulum-v1")
    env.set_seed(0)
    return env


@pytest.fixture
def policy():
    torch.manual_seed(0)
    return TensorDictModule(torch.nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])


# --- exercise 1: annealed e-greedy -------------------------------------------------------


def test_annealed_egreedy_unanswered_is_not_done():
    assert ex.check_annealed_egreedy(None).status == "not done yet"


def test_annealed_egreedy_solution_passes_and_is_left_untouched(sol, env):
    module = sol.solve_annealed_egreedy(env)
    feedback = ex.check_annealed_egreedy(module)
    assert feedback.passed, feedback
    assert float(module.eps) == 1.0  # checking annealed a copy, not the learner's module


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(eps_init=1.0, eps_end=0.05, annealing_num_steps=1000), "annealing_num_steps"),
        (dict(eps_init=1.0, annealing_num_steps=500), "settles at 0.1"),
        (dict(eps_init=0.5, eps_end=0.05, annealing_num_steps=500), "starts at 0.5"),
    ],
)
def test_annealed_egreedy_wrong_settings_are_named(env, kwargs, expected):
    feedback = ex.check_annealed_egreedy(EGreedyModule(env.action_spec, **kwargs))
    assert feedback.status == "wrong"
    assert expected in str(feedback)


def test_annealed_egreedy_already_stepped_is_explained(sol, env):
    module = sol.solve_annealed_egreedy(env)
    module.step(10)
    feedback = ex.check_annealed_egreedy(module)
    assert feedback.status == "wrong" and ".step() been called" in feedback.message


def test_annealed_egreedy_without_spec_or_wrong_type(env):
    no_spec = ex.check_annealed_egreedy(EGreedyModule(None, 1.0, 0.05, 500))
    assert no_spec.status == "wrong" and "spec" in no_spec.message
    gaussian = ex.check_annealed_egreedy(AdditiveGaussianModule(env.action_spec))
    assert gaussian.status == "wrong" and "AdditiveGaussianModule" in gaussian.message


# --- exercise 2: Gaussian noise on the policy --------------------------------------------


def test_noisy_policy_unanswered_is_not_done(policy, env):
    assert ex.check_noisy_policy(None, policy, env).status == "not done yet"


def test_noisy_policy_solution_passes(sol, policy, env):
    feedback = ex.check_noisy_policy(sol.solve_noisy_policy(policy, env), policy, env)
    assert feedback.passed, feedback
    assert "0.5" in feedback.message


def _noise(env, **kwargs):
    return AdditiveGaussianModule(spec=env.action_spec, **kwargs)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda p, e: _noise(e, sigma_init=0.5, sigma_end=0.5), "TensorDictSequential"),
        (lambda p, e: TensorDictSequential(p, _noise(e)), "sigma is 1"),
        (lambda p, e: TensorDictSequential(p, _noise(e, sigma_init=0.5)), "sigma_end is 0.1"),
        (
            lambda p, e: TensorDictSequential(_noise(e, sigma_init=0.5, sigma_end=0.5), p),
            "not the last module",
        ),
        (
            lambda p, e: TensorDictSequential(p, AdditiveGaussianModule(None, 0.5, 0.5)),
            "no spec",
        ),
        (
            lambda p, e: TensorDictSequential(p, EGreedyModule(e.action_spec, 0.5, 0.5)),
            "EGreedyModule",
        ),
    ],
)
def test_noisy_policy_typical_mistakes(policy, env, build, expected):
    feedback = ex.check_noisy_policy(build(policy, env), policy, env)
    assert feedback.status == "wrong"
    assert expected in str(feedback), feedback
    assert feedback.hint


def test_noisy_policy_on_another_network_is_caught(sol, policy, env):
    other = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])
    feedback = ex.check_noisy_policy(sol.solve_noisy_policy(other, env), policy, env)
    assert feedback.status == "wrong" and "switched off" in feedback.message


def test_noisy_policy_does_not_shift_the_global_rng(sol, policy, env):
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    ex.check_noisy_policy(sol.solve_noisy_policy(policy, env), policy, env)
    assert torch.equal(torch.rand(3), expected)
