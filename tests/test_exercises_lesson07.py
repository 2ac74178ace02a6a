"""Lesson 07's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import (
    CompositeDistribution,
    NormalParamExtractor,
    TensorDictModule,
    TensorDictSequential,
)
from torch import distributions as d
from torch import nn
from torchrl.envs import ExplorationType, set_exploration_type
from torchrl.modules import MLP, ProbabilisticActor, TanhNormal

from rltutor.exercises import lesson07 as ex
from rltutor.toy_envs import PuckEnv

sol = load_solution("07_composite_actions")


def make_network() -> TensorDictSequential:
    torch.manual_seed(0)
    body = TensorDictModule(MLP(in_features=3, out_features=32, num_cells=[32]),
                            in_keys=["observation"], out_keys=["hidden"])
    direction = TensorDictModule(nn.Linear(32, 2), in_keys=["hidden"],
                                 out_keys=[("params", "direction", "logits")])
    force = TensorDictModule(nn.Sequential(nn.Linear(32, 2), NormalParamExtractor()),
                             in_keys=["hidden"],
                             out_keys=[("params", "force", "loc"), ("params", "force", "scale")])
    return TensorDictSequential(body, direction, force)


def make_actor(high: float | None = 0.5, name_map: bool = True, log_prob: bool = True,
               force_dist=TanhNormal) -> ProbabilisticActor:
    kwargs = {"distribution_map": {"direction": d.Categorical, "force": force_dist}}
    if name_map:
        kwargs["name_map"] = {"direction": ("action", "direction"), "force": ("action", "force")}
    if high is not None:
        kwargs["extra_kwargs"] = {"force": {"low": 0.0, "high": high}}
    out_keys = ([("action", "direction"), ("action", "force")] if name_map
                else ["direction", "force"])
    return ProbabilisticActor(make_network(), in_keys=["params"], out_keys=out_keys,
                              distribution_class=CompositeDistribution,
                              distribution_kwargs=kwargs, return_log_prob=log_prob)


@pytest.fixture(scope="module")
def rollout_td():
    env = PuckEnv(seed=0)
    with set_exploration_type(ExplorationType.RANDOM):
        return env.rollout(20, make_actor(high=1.0))


def test_unanswered_is_not_done(rollout_td):
    assert ex.check_gentle_actor(None, PuckEnv()).status == "not done yet"
    assert ex.check_flipped_log_prob(None, rollout_td, make_actor()).status == "not done yet"


def test_gentle_solution_passes():
    feedback = ex.check_gentle_actor(sol.solve_gentle_actor(make_network()), PuckEnv())
    assert feedback.passed, feedback


def test_lesson_actor_pushing_up_to_one_is_wrong():
    feedback = ex.check_gentle_actor(make_actor(high=1.0), PuckEnv())
    assert feedback.status == "wrong" and "above 0.5" in feedback.message


def test_forgetting_the_bounds_gives_negative_forces():
    feedback = ex.check_gentle_actor(make_actor(high=None), PuckEnv())
    assert feedback.status == "wrong" and "negative" in feedback.message
    assert "extra_kwargs" in feedback.hint


def test_forgetting_name_map_is_wrong():
    feedback = ex.check_gentle_actor(make_actor(name_map=False), PuckEnv())
    assert feedback.status == "wrong" and "name_map" in feedback.hint


def test_forgetting_log_probs_is_wrong():
    feedback = ex.check_gentle_actor(make_actor(log_prob=False), PuckEnv())
    assert feedback.status == "wrong" and "return_log_prob" in feedback.hint


def test_not_a_module_is_wrong():
    assert ex.check_gentle_actor(nn.Linear(3, 2), PuckEnv()).status == "wrong"


@pytest.fixture(scope="module")
def sampled():
    """As in the lesson: the actor (force in [0, 1]) and a sampled rollout of it."""
    actor = make_actor(high=1.0)
    env = PuckEnv(seed=0)
    with set_exploration_type(ExplorationType.RANDOM):
        return actor, env.rollout(20, actor)


def test_flipped_log_prob_solutions_pass(sampled):
    actor, rollout_td = sampled
    for answer in (sol.solve_flipped_log_prob(rollout_td, actor),
                   sol.solve_flipped_log_prob_by_hand(rollout_td)):
        feedback = ex.check_flipped_log_prob(answer, rollout_td, actor)
        assert feedback.passed, feedback


def test_copying_the_lessons_sum_of_parts_is_wrong(sampled):
    # the cell above the exercise: the log-probability of the action *taken*
    actor, rollout_td = sampled
    parts = rollout_td["action", "direction_log_prob"] + rollout_td["action", "force_log_prob"]
    feedback = ex.check_flipped_log_prob(parts, rollout_td, actor)
    assert feedback.status == "wrong" and "action that was taken" in feedback.message


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda td: -td["action", "direction_log_prob"] + td["action", "force_log_prob"],
         "negating"),
        (lambda td: torch.log1p(-td["action", "direction_log_prob"].exp()), "direction part"),
        (lambda td: sol.solve_flipped_log_prob_by_hand(td).sum(), "one per step"),
        (lambda td: td["action", "force_log_prob"], "differ"),
        (lambda td: 1.0, "expected a tensor"),
    ],
)
def test_flipped_log_prob_mistakes(sampled, answer, says):
    actor, rollout_td = sampled
    feedback = ex.check_flipped_log_prob(answer(rollout_td), rollout_td, actor)
    assert feedback.status == "wrong" and says in feedback.message, feedback
