"""Lesson 03's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torch.distributions import Normal
from torchrl.envs import GymEnv
from torchrl.envs.utils import ExplorationType
from torchrl.modules import MLP, Actor, OneHotCategorical, ProbabilisticActor, TanhNormal

from rltutor.exercises import lesson03 as ex

SOLUTIONS = Path(__file__).resolve().parents[1] / "lessons" / "solutions"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load("03_probabilistic_policies")


@pytest.fixture(scope="module")
def env():
    return GymEnv("Pendulum-v1")


@pytest.fixture(scope="module")
def cartpole():
    return GymEnv("CartPole-v1")


def _gaussian(env, dist=Normal, kwargs=None, log_prob=True):
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=2, num_cells=[16]), NormalParamExtractor()),
        in_keys=["observation"],
        out_keys=["loc", "scale"],
    )
    return ProbabilisticActor(
        backbone,
        in_keys=["loc", "scale"],
        spec=env.action_spec,
        distribution_class=dist,
        distribution_kwargs=kwargs or {},
        return_log_prob=log_prob,
    )


def test_unanswered_is_not_done():
    assert ex.check_bounded_gaussian_actor(None).status == "not done yet"
    assert ex.check_categorical_actor(None).status == "not done yet"
    assert ex.check_random_modes(None).status == "not done yet"


def test_bounded_solution_passes(env):
    feedback = ex.check_bounded_gaussian_actor(sol.solve_bounded_actor(env))
    assert feedback.passed, feedback


def test_normal_leaves_the_bounds(env):
    feedback = ex.check_bounded_gaussian_actor(_gaussian(env, Normal))
    assert feedback.status == "wrong"
    assert "left [-2, 2]" in feedback.message and "TanhNormal" in feedback.hint


def test_missing_log_prob_is_wrong(env):
    spec = env.action_spec
    kwargs = {"low": spec.space.low, "high": spec.space.high}
    feedback = ex.check_bounded_gaussian_actor(_gaussian(env, TanhNormal, kwargs, False))
    assert feedback.status == "wrong"
    assert "return_log_prob=True" in feedback.hint


def test_deterministic_actor_is_not_probabilistic(env):
    feedback = ex.check_bounded_gaussian_actor(Actor(nn.LazyLinear(1), spec=env.action_spec))
    assert feedback.status == "wrong"
    assert "not a ProbabilisticActor" in feedback.message


def test_categorical_solution_passes(cartpole):
    feedback = ex.check_categorical_actor(sol.solve_categorical_actor(cartpole))
    assert feedback.passed, feedback


def test_categorical_needs_logits(cartpole, env):
    # a Gaussian actor built for CartPole's one-hot spec: no logits anywhere
    feedback = ex.check_categorical_actor(_gaussian(cartpole, Normal))
    assert feedback.status == "wrong"
    assert "no 'logits'" in feedback.message


def test_categorical_with_wrong_action_count(cartpole):
    backbone = TensorDictModule(
        MLP(out_features=3, num_cells=[8]), in_keys=["observation"], out_keys=["logits"]
    )
    actor = ProbabilisticActor(
        backbone, in_keys=["logits"], distribution_class=OneHotCategorical, return_log_prob=True
    )
    feedback = ex.check_categorical_actor(actor)
    assert feedback.status == "wrong"
    assert "expected (4096, 2)" in feedback.message


def test_random_modes_solution_passes():
    assert ex.check_random_modes(sol.solve_random_modes()).passed
    assert ex.check_random_modes(["random", "MEAN"]).passed


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({ExplorationType.RANDOM}, "MEAN also changes"),
        ({ExplorationType.MEAN}, "RANDOM is missing"),
        ({"random", "mean", "deterministic"}, "['DETERMINISTIC']"),
        (ExplorationType.RANDOM, "expected a set"),
        ({"sometimes"}, "not an exploration type"),
    ],
)
def test_random_modes_wrong_answers(answer, expected):
    feedback = ex.check_random_modes(answer)
    assert feedback.status == "wrong"
    assert expected in feedback.message, feedback
