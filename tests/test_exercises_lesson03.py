"""Lesson 03's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torch.distributions import Normal
from torchrl.data import Bounded
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


def _car_spec():
    return Bounded(low=torch.tensor([-1.0, 0.0]), high=torch.tensor([1.0, 1.0]))


def _car(outputs=4, dist=TanhNormal, bounds=None, spec=None, log_prob=True):
    spec = _car_spec() if spec is None else spec
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=outputs, num_cells=[16]), NormalParamExtractor()),
        in_keys=["observation"], out_keys=["loc", "scale"])
    kwargs = {"low": spec.space.low, "high": spec.space.high} if bounds is None else bounds
    return ProbabilisticActor(backbone, in_keys=["loc", "scale"], spec=spec,
                              distribution_class=dist, return_log_prob=log_prob,
                              distribution_kwargs=kwargs if dist is TanhNormal else {})


def test_unanswered_is_not_done():
    assert ex.check_car_actor(None).status == "not done yet"
    assert ex.check_probs_actor(None).status == "not done yet"
    assert ex.check_normal_random_modes(None).status == "not done yet"


def test_car_actor_solution_passes():
    feedback = ex.check_car_actor(sol.solve_car_actor())
    assert feedback.passed, feedback


def test_car_actor_check_leaves_global_rng_alone():
    actor = sol.solve_car_actor()  # building it draws weights: before the seed
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    ex.check_car_actor(actor)
    assert torch.equal(torch.rand(1), expected)


def test_car_actor_nearest_cell_pendulum_actor_with_bounds_one_is_wrong(env):
    # the lesson's `actor` cell with bounds ±1: what passed the old exercise
    spec = env.action_spec
    actor = _gaussian(env, TanhNormal, {"low": -1.0, "high": 1.0})
    feedback = ex.check_car_actor(actor)
    assert feedback.status == "wrong"
    assert "holds 1 number" in feedback.message and "needs 2" in feedback.message
    assert "out_features=4" not in feedback.hint and "4" not in feedback.hint
    # and the lesson's actor itself, spec bounds and all
    feedback = ex.check_car_actor(_tanh(env, spec.space.low, spec.space.high))
    assert feedback.status == "wrong" and "holds 1 number" in feedback.message


def test_car_actor_mistake_same_bounds_for_both_actions_reverses():
    # four outputs, but the symmetric [-1, 1] bounds of steering used for the throttle too
    feedback = ex.check_car_actor(_car(bounds={"low": -1.0, "high": 1.0}))
    assert feedback.status == "wrong"
    assert "throttles were below 0" in feedback.message
    assert "different bounds" in feedback.hint


def test_car_actor_mistake_spec_with_shared_bounds_is_named():
    spec = Bounded(low=-1.0, high=1.0, shape=(2,))
    feedback = ex.check_car_actor(_car(spec=spec))
    assert feedback.status == "wrong"
    assert "not steering in [-1, 1] and throttle in [0, 1]" in feedback.message


def test_car_actor_mistake_normal_escapes_its_bounds():
    feedback = ex.check_car_actor(_car(dist=Normal))
    assert feedback.status == "wrong"
    assert "squashes every sample" in feedback.hint


def test_car_actor_mistake_pendulum_spec_is_wrong():
    pendulum_spec = Bounded(-2.0, 2.0, shape=(1,))
    actor = _car(bounds={"low": _car_spec().space.low, "high": _car_spec().space.high},
                 spec=pendulum_spec)
    feedback = ex.check_car_actor(actor)
    assert feedback.status == "wrong"
    assert "shape (1,)" in feedback.message


def test_car_actor_mistake_missing_log_prob_is_wrong():
    feedback = ex.check_car_actor(_car(log_prob=False))
    assert feedback.status == "wrong"
    assert "return_log_prob=True" in feedback.hint


def test_car_actor_mistake_deterministic_actor_is_not_probabilistic(env):
    feedback = ex.check_car_actor(Actor(nn.LazyLinear(2), spec=_car_spec()))
    assert feedback.status == "wrong"
    assert "not a ProbabilisticActor" in feedback.message


def test_probs_actor_solution_passes(cartpole):
    feedback = ex.check_probs_actor(sol.solve_probs_actor(cartpole))
    assert feedback.passed, feedback


def test_probs_actor_nearest_cell_logits_actor_is_told_about_probs(cartpole):
    # the lesson's cartpole_actor cell, copied: logits, not probs
    feedback = ex.check_probs_actor(_probs_actor(out_key="logits"))
    assert feedback.status == "wrong"
    assert "no 'probs'" in feedback.message and "keyword arguments" in feedback.hint


def test_probs_actor_mistake_without_softmax_are_not_probabilities():
    feedback = ex.check_probs_actor(_probs_actor())  # raw MLP outputs, some negative
    assert feedback.status == "wrong"
    assert "nn.Softmax" in feedback.hint


def test_probs_actor_mistake_wrong_action_count():
    feedback = ex.check_probs_actor(_probs_actor(last=nn.Softmax(-1), out_features=3))
    assert feedback.status == "wrong"
    assert "expected (4096, 2)" in feedback.message


def test_probs_actor_mistake_integer_categorical_is_not_one_hot():
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


def test_normal_random_modes_nearest_cell_tanhnormal_column_is_wrong():
    # the TanhNormal column of the lesson's table: RANDOM and MEAN vary there
    feedback = ex.check_normal_random_modes({ExplorationType.RANDOM, ExplorationType.MEAN})
    assert feedback.status == "wrong" and "TanhNormal's row" in feedback.message
    assert "formula for its mean" in feedback.hint


def test_normal_random_modes_mistake_format_example_copied():
    # the example in the task shows the format; copied as the answer, it is wrong
    feedback = ex.check_normal_random_modes({ExplorationType.MODE, ExplorationType.MEDIAN})
    assert feedback.status == "wrong"
    assert feedback.message == ("1 type missing: it varies from call to call; "
                                "2 of your types never vary (or raise)")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({ExplorationType.MODE}, "1 type missing"),
        (set(), "1 type missing"),
        ({"random", "deterministic"}, "1 of your types never vary"),
        ({"random", "median", "mode"}, "2 of your types never vary"),
        (ExplorationType.RANDOM, "expected a set"),
        ({"sometimes"}, "not an exploration type"),
    ],
)
def test_normal_random_modes_mistake_wrong_answers(answer, expected):
    feedback = ex.check_normal_random_modes(answer)
    assert feedback.status == "wrong"
    assert expected in feedback.message, feedback
    if expected.endswith("missing"):  # the count, never the name of the missing type
        assert "RANDOM" not in feedback.message + feedback.hint


def test_normal_random_modes_check_leaves_global_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    ex.check_normal_random_modes({ExplorationType.RANDOM})
    assert torch.equal(torch.rand(1), expected)
