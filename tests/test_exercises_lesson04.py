"""Lesson 04's checks: the solutions pass, typical mistakes and the nearest cell fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.data import Bounded
from torchrl.envs import GymEnv
from torchrl.modules import AdditiveGaussianModule, EGreedyModule, OrnsteinUhlenbeckProcessModule

from rltutor.exercises import lesson04 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("04_exploration_modules")


@pytest.fixture
def env():
    env = GymEnv("Pendulum-v1")
    env.set_seed(0)
    return env


THROTTLE = Bounded(low=0.0, high=1.0, shape=(1,))


# --- exercise 1: predict epsilon after some calls to .step() ------------------------------


def test_eps_after_unanswered_is_not_done():
    assert ex.check_eps_after(None).status == "not done yet"


def test_eps_after_solution_passes(sol):
    feedback = ex.check_eps_after(sol.solve_eps_after)
    assert feedback.passed, feedback
    assert "250 calls: 0.525" in feedback.message  # the case the lesson asks about
    assert sol.solve_eps_after(250, eps_init=1.0, eps_end=0.05, annealing_num_steps=500) == (
        pytest.approx(0.525))


def test_eps_after_mistake_that_never_stops_is_named():
    def no_floor(calls, *, eps_init, eps_end, annealing_num_steps):
        return eps_init - (eps_init - eps_end) * calls / annealing_num_steps

    feedback = ex.check_eps_after(no_floor)
    assert feedback.status == "wrong"
    assert "keeps falling after the annealing is over" in feedback.message
    assert "max" not in str(feedback)  # says what is missing, not the answer


def test_eps_after_mistake_exponential_decay_is_too_low():
    def exponential(calls, *, eps_init, eps_end, annealing_num_steps):
        return max(eps_end, eps_init * (eps_end / eps_init) ** (calls / annealing_num_steps))

    feedback = ex.check_eps_after(exponential)
    assert feedback.status == "wrong" and "too low" in feedback.message, feedback
    assert "straight line" in feedback.hint


def test_eps_after_nearest_cell_copy_is_rejected(env):
    # the lesson's annealing cell inside a function, its numbers changed to the
    # exercise's first case: right for that schedule, blind to the others
    def eps_after(calls, *, eps_init, eps_end, annealing_num_steps):
        annealing = EGreedyModule(spec=env.action_spec, eps_init=1.0, eps_end=0.05,
                                  annealing_num_steps=500)
        for _ in range(calls):
            annealing.step()
        return float(annealing.eps)

    feedback = ex.check_eps_after(eps_after)
    assert feedback.status == "wrong", feedback
    # and the cell itself, an EGreedyModule instead of a prediction, is no answer
    module = EGreedyModule(spec=env.action_spec, eps_init=1.0, eps_end=0.05,
                           annealing_num_steps=500)
    module_feedback = ex.check_eps_after(module)
    assert module_feedback.status == "wrong" and "not a function" in module_feedback.message


def test_eps_after_constant_answer_is_caught():
    feedback = ex.check_eps_after(lambda calls, **schedule: 0.525)
    assert feedback.status == "wrong" and "ignores the arguments" in feedback.message


# --- exercise 2: noise at 10 % of a [0, 1] throttle's range -------------------------------


def test_throttle_noise_unanswered_is_not_done():
    assert ex.check_throttle_noise(None).status == "not done yet"


def test_throttle_noise_solution_passes(sol):
    noise, measured = sol.solve_throttle_noise()
    feedback = ex.check_throttle_noise(noise, measured)
    assert feedback.passed, feedback
    assert abs(measured - 0.1) < 0.01
    assert float(noise.sigma) == pytest.approx(0.1)  # the check measured a copy


def test_throttle_noise_solution_with_std_instead_of_sigma_passes():
    # sigma * N(0, std): sigma=1, std=0.1 is the same noise
    noise = AdditiveGaussianModule(spec=THROTTLE, sigma_init=1.0, sigma_end=1.0, std=0.1)
    assert ex.check_throttle_noise(noise, 0.1).passed


def test_throttle_noise_mistake_sigma_and_std_both_half_is_measured():
    # the old exercise printed ✓ for this: its real scale is 0.5 * 0.5 = 0.25
    noise = AdditiveGaussianModule(spec=THROTTLE, sigma_init=0.5, sigma_end=0.5, std=0.5)
    feedback = ex.check_throttle_noise(noise, 0.25)
    assert feedback.status == "wrong"
    # about 0.24 rather than 0.25: the bounds clip the widest draws
    assert "measured std of 0.24" in feedback.message and "24%" in feedback.message, feedback


def test_throttle_noise_mistake_measured_at_a_bound_is_explained():
    noise = AdditiveGaussianModule(spec=THROTTLE, sigma_init=0.1, sigma_end=0.1)
    clipped = ex.check_throttle_noise(noise, 0.058)  # half the draws clipped at 0
    assert clipped.status == "wrong" and "clipping" in clipped.hint, clipped
    missing = ex.check_throttle_noise(noise)
    assert missing.status == "wrong" and "measure" in missing.message


def test_throttle_noise_mistake_that_anneals_away_is_caught():
    noise = AdditiveGaussianModule(spec=THROTTLE, sigma_init=0.1, sigma_end=0.01)
    feedback = ex.check_throttle_noise(noise, 0.1)
    assert feedback.status == "wrong" and "annealing" in feedback.message


def test_throttle_noise_nearest_cell_copy_is_rejected(env):
    # the lesson's gaussian cell with 0.3 -> 0.1: Pendulum's spec, not the throttle's
    torch.manual_seed(0)
    policy = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["observation"],
                              out_keys=["action"])
    gaussian = TensorDictSequential(
        policy, AdditiveGaussianModule(spec=env.action_spec, sigma_init=0.1, sigma_end=0.1))
    feedback = ex.check_throttle_noise(gaussian, 0.1)
    assert feedback.status == "wrong"
    assert "spans [-2, 2]" in feedback.message and "Bounded" in feedback.hint, feedback


def test_throttle_noise_other_modules_are_refused():
    ou = ex.check_throttle_noise(OrnsteinUhlenbeckProcessModule(spec=THROTTLE), 0.1)
    assert ou.status == "wrong" and "remembers" in ou.message
    eg = ex.check_throttle_noise(EGreedyModule(spec=THROTTLE), 0.1)
    assert eg.status == "wrong" and "EGreedyModule" in eg.message
    no_spec = ex.check_throttle_noise(AdditiveGaussianModule(None, 0.1, 0.1), 0.1)
    assert no_spec.status == "wrong" and "spec" in no_spec.message


def test_checks_do_not_shift_the_global_rng(sol):
    noise, measured = sol.solve_throttle_noise()
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    ex.check_throttle_noise(noise, measured)
    ex.check_eps_after(sol.solve_eps_after)
    assert torch.equal(torch.rand(3), expected)
