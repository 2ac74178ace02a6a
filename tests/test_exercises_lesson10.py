"""Lesson 10's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import logging

import pytest
import torch
from conftest import load_solution
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.data.replay_buffers import SliceSampler
from torchrl.modules import MLP, QValueActor
from torchrl.objectives import DQNLoss

from rltutor.exercises import lesson10 as ex
from rltutor.policies import make_qvalue_policy
from rltutor.rollouts import rollout


@pytest.fixture(scope="module")
def sol():
    return load_solution("10_losses_and_replay")


@pytest.fixture(scope="module")
def q_actor(cartpole):
    torch.manual_seed(0)
    return QValueActor(MLP(in_features=4, out_features=2, num_cells=[16]),
                       in_keys=["observation"], spec=cartpole.action_spec)


@pytest.fixture(scope="module")
def batch(cartpole, q_actor):
    with torch.no_grad():
        td = rollout(cartpole, q_actor, steps=64, seed=0, exploration="deterministic",
                     break_when_done=False)
    assert bool(td["next", "terminated"].any())  # the check needs episode ends
    return td


# --- exercise 1: the DQN loss by hand -------------------------------------------------------


def test_dqn_loss_by_hand_unanswered_is_not_done(q_actor, batch):
    assert ex.check_dqn_loss_by_hand(None, q_actor, batch).status == "not done yet"


def test_dqn_loss_by_hand_solution_passes(sol, q_actor, batch):
    feedback = ex.check_dqn_loss_by_hand(sol.solve_dqn_loss_by_hand, q_actor, batch)
    assert feedback.passed, feedback


def _with(sol, **changes):
    """The solution with one slip."""
    def loss(q_actor, batch, gamma):
        q = q_actor(batch.clone())["action_value"]
        q_taken = q.max(-1).values if changes.get("max_taken") else (q * batch["action"]).sum(-1)
        source = batch.clone() if changes.get("same_state") else batch["next"].clone()
        if changes.get("attached"):
            q_next = q_actor(source)["action_value"].max(-1).values
        else:
            with torch.no_grad():
                q_next = q_actor(source)["action_value"].max(-1).values
        alive = 1.0 if changes.get("no_end") else (~batch["next", "terminated"].squeeze(-1))
        target = batch["next", "reward"].squeeze(-1) + gamma * q_next * alive
        return (q_taken - target).pow(2).mean()
    return loss


@pytest.mark.parametrize(("slip", "expected"), [
    ("no_end", "after steps that ended the episode"),
    ("same_state", "over Q(s, .)"),
    ("max_taken", "not the Q-value of the action that was taken"),
    ("attached", "your target moves with the network"),
])
def test_dqn_loss_by_hand_mistake_is_named(sol, q_actor, batch, slip, expected):
    feedback = ex.check_dqn_loss_by_hand(_with(sol, **{slip: True}), q_actor, batch)
    assert feedback.status == "wrong" and expected in feedback.message, feedback


def test_dqn_loss_by_hand_mistake_without_gradient_is_named(sol, q_actor, batch):
    def frozen(q_actor, batch, gamma):
        with torch.no_grad():
            return sol.solve_dqn_loss_by_hand(q_actor, batch, gamma)

    feedback = ex.check_dqn_loss_by_hand(frozen, q_actor, batch)
    assert feedback.status == "wrong" and "carries no gradient" in feedback.message


def test_dqn_loss_by_hand_nearest_cell_calling_dqn_loss_is_rejected(cartpole, q_actor, batch):
    # section 1's loss cell, wrapped in a function: the right number, nothing learnt
    def wrapped(q_actor, batch, gamma):
        loss = DQNLoss(q_actor, action_space=cartpole.action_spec, delay_value=False)
        loss.make_value_estimator(gamma=gamma)
        return loss(batch)["loss"]

    feedback = ex.check_dqn_loss_by_hand(wrapped, q_actor, batch)
    assert feedback.status == "wrong" and "calls TorchRL's DQNLoss" in feedback.message
    # and the cell's output itself, a number, is not a function
    value = DQNLoss(q_actor, action_space=cartpole.action_spec, delay_value=False)(batch)
    feedback = ex.check_dqn_loss_by_hand(value["loss"], q_actor, batch)
    assert feedback.status == "wrong" and "is a value" in feedback.message


def test_dqn_loss_by_hand_check_leaves_grads_and_rng_alone(sol, q_actor, batch):
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    ex.check_dqn_loss_by_hand(sol.solve_dqn_loss_by_hand, q_actor, batch)
    assert torch.equal(torch.rand(2), expected)
    assert all(p.grad is None for p in q_actor.parameters())


# --- exercise 2: whole episodes, side by side ---------------------------------------------


@pytest.fixture(scope="module")
def collected(cartpole):
    logging.getLogger("torchrl").setLevel(logging.WARNING)
    collector = Collector(cartpole, make_qvalue_policy(cartpole), frames_per_batch=100,
                          total_frames=300, auto_register_policy_transforms=False)
    data = torch.cat([batch for batch in collector])
    collector.shutdown()
    assert data[("collector", "traj_ids")].unique().numel() > 5  # several trajectories
    return data


def test_episodes_unanswered_is_not_done(collected):
    assert ex.check_episodes(None, collected).status == "not done yet"


def test_episodes_solution_passes(sol, collected):
    feedback = ex.check_episodes(sol.solve_episodes(collected), collected)
    assert feedback.passed, feedback


def test_episodes_mistake_reshape_mixes_trajectories(collected):
    # the shape trick: 300 steps as 12 rows of 25, ignoring where trajectories end
    rows = collected.reshape(12, 25)
    rows[ex.MASK_KEY] = torch.ones(12, 25, dtype=torch.bool)
    feedback = ex.check_episodes(rows, collected)
    assert feedback.status == "wrong" and "trajectories" in feedback.message


def test_episodes_mistake_without_mask_is_rejected(sol, collected):
    feedback = ex.check_episodes(sol.solve_episodes(collected).exclude(ex.MASK_KEY),
                                 collected)
    assert feedback.status == "wrong" and "no mask" in feedback.message


def test_episodes_mistake_mixed_row_is_named(sol, collected):
    episodes = sol.solve_episodes(collected)
    episodes[ex.TRAJ_KEY][0, 0] = episodes[ex.TRAJ_KEY][1, 0]
    feedback = ex.check_episodes(episodes, collected)
    assert feedback.status == "wrong" and "row 0 holds steps of trajectories" in feedback.message


def test_episodes_nearest_cell_slice_buffer_is_rejected(collected):
    # section 6's SliceSampler cell with its numbers changed, and a sample from it
    buffer = ReplayBuffer(storage=LazyTensorStorage(400), batch_size=30,
                          sampler=SliceSampler(slice_len=6, traj_key=ex.TRAJ_KEY))
    buffer.extend(collected)
    feedback = ex.check_episodes(buffer, collected)
    assert feedback.status == "wrong" and "samples pieces at random" in feedback.message
    sample = buffer.sample().reshape(5, 6)
    sample[ex.MASK_KEY] = torch.ones(5, 6, dtype=torch.bool)
    feedback = ex.check_episodes(sample, collected)
    assert feedback.status == "wrong" and "rows; the data holds" in feedback.message
