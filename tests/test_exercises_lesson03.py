"""Lesson 03's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torch.distributions import Normal
from torchrl.envs import GymEnv
from torchrl.envs.utils import ExplorationType
from torchrl.modules import MLP, Actor, OneHotCategorical, ProbabilisticActor, TanhNormal

from rltutor.exercises import lesson03 as ex

sol = load_solution("03_probabilistic_policies")


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


def _tanh(env, low, high, log_prob=True):
    return _gaussian(env, TanhNormal, {"low": low, "high": high}, log_prob)


def _probs_actor(out_key="probs", last=None, out_features=2, dist=OneHotCategorical):
    layers = [MLP(out_features=out_features, num_cells=[8])] + ([last] if last else [])
    backbone = TensorDictModule(
        nn.Sequential(*layers), in_keys=["observation"], out_keys=[out_key]
    )
    return ProbabilisticActor(
        backbone, in_keys=[out_key], distribution_class=dist, return_log_prob=True
    )


def test_unanswered_is_not_done():
    assert ex.check_gentle_actor(None).status == "not done yet"
    assert ex.check_probs_actor(None).status == "not done yet"
    assert ex.check_normal_random_modes(None).status == "not done yet"


def test_gentle_solution_passes(env):
    feedback = ex.check_gentle_actor(sol.solve_gentle_actor(env))
    assert feedback.passed, feedback


def test_spec_bounds_are_too_wide(env):
    spec = env.action_spec
    feedback = ex.check_gentle_actor(_tanh(env, spec.space.low, spec.space.high))
    assert feedback.status == "wrong"
    assert "left [-1, 1]" in feedback.message and "'low': -1.0" in feedback.hint


def test_normal_leaves_the_bounds(env):
    feedback = ex.check_gentle_actor(_gaussian(env, Normal))
    assert feedback.status == "wrong"
    assert "left [-1, 1]" in feedback.message and "TanhNormal" in feedback.hint


def test_missing_log_prob_is_wrong(env):
    feedback = ex.check_gentle_actor(_tanh(env, -1.0, 1.0, log_prob=False))
    assert feedback.status == "wrong"
    assert "return_log_prob=True" in feedback.hint


def test_deterministic_actor_is_not_probabilistic(env):
    feedback = ex.check_gentle_actor(Actor(nn.LazyLinear(1), spec=env.action_spec))
    assert feedback.status == "wrong"
    assert "not a ProbabilisticActor" in feedback.message


def test_probs_solution_passes(cartpole):
    feedback = ex.check_probs_actor(sol.solve_probs_actor(cartpole))
    assert feedback.passed, feedback


def test_logits_actor_is_told_about_probs(cartpole):
    feedback = ex.check_probs_actor(_probs_actor(out_key="logits"))
    assert feedback.status == "wrong"
    assert "no 'probs'" in feedback.message and "keyword arguments" in feedback.hint


def test_probs_without_softmax_are_not_probabilities():
    feedback = ex.check_probs_actor(_probs_actor())  # raw MLP outputs, some negative
    assert feedback.status == "wrong"
    assert "nn.Softmax" in feedback.hint


def test_probs_with_wrong_action_count():
    feedback = ex.check_probs_actor(_probs_actor(last=nn.Softmax(-1), out_features=3))
    assert feedback.status == "wrong"
    assert "expected (4096, 2)" in feedback.message


def test_probs_with_integer_categorical_is_not_one_hot():
    from torch.distributions import Categorical

    feedback = ex.check_probs_actor(_probs_actor(last=nn.Softmax(-1), dist=Categorical))
    assert feedback.status == "wrong"
    assert "one-hot" in feedback.message


def test_normal_random_modes_solution_passes(env):
    torch.manual_seed(0)
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=2, num_cells=[16]), NormalParamExtractor()),
        in_keys=["observation"], out_keys=["loc", "scale"])
    normal_actor = ProbabilisticActor(backbone, in_keys=["loc", "scale"], spec=env.action_spec,
                                      distribution_class=Normal, return_log_prob=True)
    answer = sol.solve_normal_random_modes(normal_actor, env.reset())
    assert answer == {ExplorationType.RANDOM}
    assert ex.check_normal_random_modes(answer).passed
    assert ex.check_normal_random_modes(["random"]).passed


def test_copying_the_tanhnormal_row_of_the_table_is_wrong():
    # issue 12: the answer printed in the lesson's table (TanhNormal) is not the Normal's
    feedback = ex.check_normal_random_modes({ExplorationType.RANDOM, ExplorationType.MEAN})
    assert feedback.status == "wrong" and "TanhNormal's row" in feedback.message
    assert "formula for its mean" in feedback.hint


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({ExplorationType.MODE}, "['RANDOM'] missing"),
        ({"random", "deterministic"}, "['DETERMINISTIC']"),
        ({"random", "median"}, "['MEDIAN']"),
        (ExplorationType.RANDOM, "expected a set"),
        ({"sometimes"}, "not an exploration type"),
    ],
)
def test_normal_random_modes_wrong_answers(answer, expected):
    feedback = ex.check_normal_random_modes(answer)
    assert feedback.status == "wrong"
    assert expected in feedback.message, feedback
