"""Lesson 11's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.envs.utils import RandomPolicy
from torchrl.modules import MLP, QValueModule
from torchrl.objectives import DQNLoss, SoftUpdate

from rltutor.envs import make_env
from rltutor.exercises import lesson11 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("11_first_training_loop")


# --- exercise 1: SoftUpdate's half-way point ----------------------------------------------


def test_half_way_unanswered_is_not_done():
    assert ex.check_half_way_updates(None).status == "not done yet"


def test_half_way_updates_solution_passes(sol):
    feedback = ex.check_half_way_updates(sol.solve_half_way_updates())
    assert feedback.passed, feedback


def test_half_way_updates_nearest_cell_fails():
    # the nearest cell sets SoftUpdate(loss_fn, tau=0.01): reading its number as a fixed
    # step (0.5 / 0.01) or as a time constant (1 / 0.01) is not the half-way point
    for copied in (round(0.5 / 0.01), round(1 / 0.01)):
        feedback = ex.check_half_way_updates(copied)
        assert feedback.status == "wrong"
        assert str(ex.observed_half_way(0.01)) not in feedback.message  # no answer given


def test_half_way_is_observed_not_assumed():
    # The checker's truth comes from stepping a real SoftUpdate: it must agree with the
    # closed form for other eps too (so it does measure what it claims).
    for tau in (0.1, 0.05, 0.01):
        n = ex.observed_half_way(tau)
        keep = 1.0 - tau
        assert keep**n < 0.5 <= keep ** (n - 1)


@pytest.mark.parametrize(
    ("guess", "expected"),
    [
        (50, "what is *left*"),  # linear thinking: 0.5 / 0.01
        (100, "time constant"),  # 1 / (1 - eps)
        (1, "kept"),  # reading eps as the step size
        (68, "too few"),
        (70, "too many"),
        (69.5, "whole number"),
        ("69", "expected a number"),
    ],
)
def test_half_way_updates_mistake_fails_with_a_reason(guess, expected):
    feedback = ex.check_half_way_updates(guess)
    assert feedback.status == "wrong"
    assert expected in str(feedback)


# --- exercise 2: the TD target ------------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    """A DQNLoss whose target copy differs from the online network, and a filled buffer."""
    torch.manual_seed(0)
    env = make_env("CartPole-v1", seed=0)
    net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[16]),
                           in_keys=["observation"], out_keys=["action_value"])
    policy = TensorDictSequential(net, QValueModule(spec=env.action_spec))
    loss_fn = DQNLoss(policy, action_space=env.action_spec, delay_value=True)
    loss_fn.make_value_estimator(gamma=0.99)
    updater = SoftUpdate(loss_fn, tau=0.01)
    buffer = ReplayBuffer(storage=LazyTensorStorage(1000), batch_size=32,
                          generator=torch.Generator().manual_seed(0))
    buffer.extend(env.rollout(300, RandomPolicy(env.action_spec), break_when_any_done=False))
    optimizer = torch.optim.Adam(loss_fn.parameters(), lr=1e-2)
    for _ in range(20):
        loss = loss_fn(buffer.sample())["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        updater.step()
    return loss_fn, buffer


def test_td_target_unanswered_is_not_done(trained):
    assert ex.check_td_target(None, *trained).status == "not done yet"
    # the lesson's stub, a function whose body still returns None
    assert ex.check_td_target(lambda batch: None, *trained).status == "not done yet"


def test_td_target_solution_passes(sol, trained):
    loss_fn, buffer = trained
    feedback = ex.check_td_target(sol.solve_td_target(loss_fn), loss_fn, buffer)
    assert feedback.passed, feedback
    assert "terminated" in feedback.message and "truncated" in feedback.message


def test_td_target_solution_agrees_with_dqnloss_itself(sol, trained):
    # The checker's formula is what DQNLoss regresses to: its value estimator, given the
    # same batch and the target parameters, returns the same numbers.
    loss_fn, buffer = trained
    batch = ex._checking_batch(buffer)
    mine = sol.solve_td_target(loss_fn)(batch.clone()).reshape(-1)
    with torch.no_grad():
        torchrl = loss_fn.value_estimator.value_estimate(
            batch.clone(), target_params=loss_fn.target_value_network_params
        ).reshape(-1)
    assert torch.allclose(mine, torchrl, atol=1e-5)


def _variant(loss_fn, *, mask="terminated", params=None, gamma=0.99, keepdim=True):
    params = loss_fn.target_value_network_params if params is None else params

    def td_target(batch):
        with torch.no_grad(), params.to_module(loss_fn.value_network):
            values = loss_fn.value_network(batch["next"].clone())["action_value"]
        best = values.max(-1, keepdim=keepdim).values
        keep = 1.0 if mask is None else (~batch["next", mask]).float()
        if not keepdim and mask is not None:
            keep = keep.squeeze(-1)
        reward = batch["next", "reward"] if keepdim else batch["next", "reward"].squeeze(-1)
        return reward + gamma * keep * best

    return td_target


def test_td_target_flat_shape_is_accepted(trained):
    loss_fn, buffer = trained
    assert ex.check_td_target(_variant(loss_fn, keepdim=False), loss_fn, buffer).passed


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda lf: _variant(lf, mask="done"), "masked with 'done'"),  # the likeliest slip
        (lambda lf: _variant(lf, mask=None), "bootstrap everywhere"),
        (lambda lf: _variant(lf, params=lf.value_network_params), "*online* network"),
        (lambda lf: _variant(lf, gamma=1.0), "discount"),
        (lambda lf: _variant(lf, gamma=0.9), "targets differ"),
        (lambda lf: (lambda batch: batch["next", "reward"]), "reward alone"),
        (lambda lf: (lambda batch: torch.zeros(3)), "3 numbers"),
        (lambda lf: (lambda batch: 1 / 0), "ZeroDivisionError"),
        (lambda lf: 42, "not a function"),
    ],
)
def test_td_target_mistake_fails_with_a_reason(trained, make, expected):
    loss_fn, buffer = trained
    feedback = ex.check_td_target(make(loss_fn), loss_fn, buffer)
    assert feedback.status == "wrong"
    assert expected in str(feedback)


def test_checking_batch_has_both_kinds_of_episode_end(trained):
    batch = ex._checking_batch(trained[1])
    terminated = batch["next", "terminated"]
    truncated = batch["next", "truncated"]
    assert terminated.any() and truncated.any()
    assert not (terminated & truncated).any()
    assert torch.equal(batch["next", "done"], terminated | truncated)


def test_td_target_nearest_cell_fails(trained):
    # the lesson's nearest cell reads the best action value of a batch of states with the
    # policy itself (`policy(states)["action_value"].max(-1).values`); adapted to targets
    # it uses the online network and bootstraps everywhere
    loss_fn, buffer = trained
    policy = loss_fn.value_network

    def copied(batch):
        with torch.no_grad():
            best = policy(batch["next"].clone())["action_value"].max(-1).values
        return batch["next", "reward"].squeeze(-1) + 0.99 * best

    feedback = ex.check_td_target(copied, loss_fn, buffer)
    assert feedback.status == "wrong"
    assert "*online*" in feedback.message and "pole fell" in feedback.message
