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

from rltutor.addons.toy_envs import PuckEnv
from rltutor.exercises import lesson07 as ex

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


def _beta_actor(force_head) -> ProbabilisticActor:
    network = make_network()  # the lesson's body and direction head
    body, direction = network[0], network[1]
    return ProbabilisticActor(
        TensorDictSequential(body, direction, force_head), in_keys=["params"],
        out_keys=[("action", "direction"), ("action", "force")],
        distribution_class=CompositeDistribution,
        distribution_kwargs={
            "distribution_map": {"direction": d.Categorical, "force": d.Beta},
            "name_map": {"direction": ("action", "direction"), "force": ("action", "force")}},
        return_log_prob=True)


def test_unanswered_is_not_done(rollout_td):
    assert ex.check_beta_actor(None).status == "not done yet"
    assert ex.check_flipped_log_prob(None, rollout_td, make_actor()).status == "not done yet"


def test_beta_actor_solution_passes():
    network = make_network()
    feedback = ex.check_beta_actor(sol.solve_beta_actor(network[0], network[1]))
    assert feedback.passed, feedback
    assert "Beta" in feedback.message


@pytest.mark.parametrize("high", [1.0, 0.5])
def test_beta_actor_nearest_cell_tanh_normal_actor_is_wrong(high):
    # the lesson's actor cell, copied with its bound changed or not: a TanhNormal force
    feedback = ex.check_beta_actor(make_actor(high=high))
    assert feedback.status == "wrong" and "TanhNormal, not from a Beta" in feedback.message


def test_beta_actor_mistake_loc_and_scale_for_a_beta():
    # the lesson's force head (loc, scale) kept, only the distribution swapped for a Beta
    head = TensorDictModule(nn.Sequential(nn.Linear(32, 2), NormalParamExtractor()),
                            in_keys=["hidden"],
                            out_keys=[("params", "force", "loc"), ("params", "force", "scale")])
    feedback = ex.check_beta_actor(_beta_actor(head))
    assert feedback.status == "wrong", feedback
    assert "unexpected keyword argument 'loc'" in feedback.message
    assert "help(d.Beta)" in feedback.hint and "concentration" not in str(feedback)


class _Halves(nn.Module):
    def forward(self, x):
        return x[..., :1], x[..., 1:]


@pytest.mark.parametrize("seed", range(10))
def test_beta_actor_mistake_parameters_not_kept_positive(seed):
    # whatever the head's initial weights: at one state they may give two positive
    # parameters by chance, which is why the check looks at many states
    torch.manual_seed(seed)
    head = TensorDictModule(nn.Sequential(nn.Linear(32, 2), _Halves()), in_keys=["hidden"],
                            out_keys=[("params", "force", "concentration1"),
                                      ("params", "force", "concentration0")])
    feedback = ex.check_beta_actor(_beta_actor(head))
    assert feedback.status == "wrong" and "not positive" in feedback.message, feedback
    assert "always positive" in feedback.hint


def test_beta_actor_mistakes_in_the_wiring():
    assert "name_map" in ex.check_beta_actor(make_actor(name_map=False)).hint
    assert "return_log_prob" in ex.check_beta_actor(make_actor(log_prob=False)).hint
    assert ex.check_beta_actor(nn.Linear(3, 2)).status == "wrong"


def test_beta_actor_check_leaves_the_learners_rng_alone():
    network = make_network()
    actor = sol.solve_beta_actor(network[0], network[1])
    torch.manual_seed(3)
    rng = torch.get_rng_state()
    assert ex.check_beta_actor(actor).passed
    assert torch.equal(torch.get_rng_state(), rng)


@pytest.fixture(scope="module")
def sampled():
    """As in the lesson: the actor (force in [0, 1]) and a sampled rollout of it."""
    actor = make_actor(high=1.0)
    env = PuckEnv(seed=0)
    with set_exploration_type(ExplorationType.RANDOM):
        return actor, env.rollout(20, actor)


def test_flipped_log_prob_solution_both_ways_pass(sampled):
    actor, rollout_td = sampled
    for answer in (sol.solve_flipped_log_prob(rollout_td),
                   sol.solve_flipped_log_prob_by_distribution(rollout_td, actor)):
        feedback = ex.check_flipped_log_prob(answer, rollout_td, actor)
        assert feedback.passed, feedback


def test_flipped_log_prob_nearest_cell_sum_of_parts_is_wrong(sampled):
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
        (lambda td: sol.solve_flipped_log_prob(td).sum(), "one per step"),
        (lambda td: td["action", "force_log_prob"], "differ"),
        (lambda td: 1.0, "expected a tensor"),
    ],
)
def test_flipped_log_prob_mistakes(sampled, answer, says):
    actor, rollout_td = sampled
    feedback = ex.check_flipped_log_prob(answer(rollout_td), rollout_td, actor)
    assert feedback.status == "wrong" and says in feedback.message, feedback
