"""Lesson 10's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import logging

import pytest
import torch
from conftest import load_solution
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.data.replay_buffers import SliceSampler
from torchrl.modules import MLP, ValueOperator
from torchrl.objectives.value import GAE

from rltutor.exercises import lesson10 as ex
from rltutor.policies import make_qvalue_policy


@pytest.fixture(scope="module")
def sol():
    return load_solution("10_losses_and_replay")


@pytest.fixture(scope="module")
def gae_batch(pendulum):
    """A Pendulum batch after GAE, as the lesson's ppo_batch_gae (random actions)."""
    torch.manual_seed(0)
    value = ValueOperator(MLP(in_features=3, out_features=1, num_cells=[8]),
                          in_keys=["observation"])
    with torch.no_grad():
        batch = pendulum.rollout(20)
        return GAE(gamma=0.99, lmbda=0.95, value_network=value)(batch)


# --- exercise 1: GAE by hand -------------------------------------------------------------


def test_gae_by_hand_unanswered_is_not_done(gae_batch):
    assert ex.check_gae_by_hand(None, gae_batch).status == "not done yet"


def test_gae_by_hand_solution_passes(sol, gae_batch):
    feedback = ex.check_gae_by_hand(sol.solve_gae_by_hand, gae_batch)
    assert feedback.passed, feedback
    assert ex.check_gae_by_hand(sol.solve_gae_by_hand, None).passed  # made-up steps only


def _one_step(reward, value, next_value, done, gamma, lmbda):
    return reward + gamma * next_value * (~done) - value


def test_gae_by_hand_mistake_one_step_delta_is_named(gae_batch):
    feedback = ex.check_gae_by_hand(_one_step, gae_batch)
    assert feedback.status == "wrong" and "one-step surprises" in feedback.message
    assert "gamma * lmbda" in feedback.hint


def test_gae_by_hand_mistake_ignoring_the_episode_end_is_named(sol, gae_batch):
    def no_end(reward, value, next_value, done, gamma, lmbda):
        return sol.solve_gae_by_hand(reward, value, next_value, torch.zeros_like(done),
                                     gamma, lmbda)

    feedback = ex.check_gae_by_hand(no_end, gae_batch)
    assert feedback.status == "wrong" and "episode end at step 2" in feedback.message
    assert "runs on into the next episode" in feedback.message


def test_gae_by_hand_mistake_without_lambda_or_value_is_named(sol, gae_batch):
    def no_lambda(reward, value, next_value, done, gamma, lmbda):
        return sol.solve_gae_by_hand(reward, value, next_value, done, gamma, 1.0)

    def target(reward, value, next_value, done, gamma, lmbda):
        return sol.solve_gae_by_hand(reward, value, next_value, done, gamma, lmbda) + value

    assert "without lmbda" in ex.check_gae_by_hand(no_lambda, gae_batch).message
    assert "value targets" in ex.check_gae_by_hand(target, gae_batch).message


def test_gae_by_hand_nearest_cell_calling_gae_is_rejected(gae_batch):
    # the GAE cell of section 3, wrapped in a function: right numbers, nothing learnt
    def wrapped(reward, value, next_value, done, gamma, lmbda):
        from tensordict import TensorDict
        td = TensorDict({"state_value": value, "next": {
            "state_value": next_value, "reward": reward, "done": done, "terminated": done}},
            batch_size=[len(reward)])
        return GAE(gamma=gamma, lmbda=lmbda, value_network=None)(td)["advantage"]

    feedback = ex.check_gae_by_hand(wrapped, gae_batch)
    assert feedback.status == "wrong" and "calls TorchRL's GAE" in feedback.message
    # and the cell's output itself, a tensor, is not a function
    tensor = ex.check_gae_by_hand(gae_batch["advantage"], gae_batch)
    assert tensor.status == "wrong" and "is a tensor" in tensor.message


def test_gae_by_hand_wrong_shape_and_the_rng_are_handled(sol, gae_batch):
    def scalar(reward, value, next_value, done, gamma, lmbda):
        return reward.sum()

    assert "returned 1 numbers" in ex.check_gae_by_hand(scalar, gae_batch).message
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    ex.check_gae_by_hand(sol.solve_gae_by_hand, gae_batch)
    assert torch.equal(torch.rand(2), expected)


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
