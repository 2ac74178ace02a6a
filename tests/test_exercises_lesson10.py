"""Lesson 10's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.data import LazyTensorStorage, ListStorage, ReplayBuffer
from torchrl.data.replay_buffers import SamplerWithoutReplacement, SliceSampler
from torchrl.modules import MLP, ProbabilisticActor, TanhNormal, ValueOperator
from torchrl.objectives import SACLoss

from rltutor.exercises import lesson10 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("10_losses_and_replay")


@pytest.fixture(scope="module")
def sac_loss():
    torch.manual_seed(0)
    backbone = TensorDictModule(
        nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[8]), NormalParamExtractor()),
        in_keys=["observation"], out_keys=["loc", "scale"])
    actor = ProbabilisticActor(backbone, in_keys=["loc", "scale"],
                               distribution_class=TanhNormal, return_log_prob=True)
    critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[8]),
                           in_keys=["observation", "action"])
    return SACLoss(actor, critic)


# --- exercise 1: what a SAC batch holds ---------------------------------------------------


def test_sac_keys_unanswered_is_not_done(sac_loss):
    assert ex.check_sac_batch_keys(None, sac_loss).status == "not done yet"


def test_sac_keys_solution_passes(sol, sac_loss):
    feedback = ex.check_sac_batch_keys(sol.solve_sac_batch_keys(), sac_loss)
    assert feedback.passed, feedback


def test_sac_keys_as_tuples_pass(sac_loss):
    answer = ["observation", "action", ("next", "observation"), ("next", "reward"),
              ("next", "done"), ("next", "terminated")]
    assert ex.check_sac_batch_keys(answer, sac_loss).passed


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("action_log_prob", "computes their log-probability itself"),  # the PPO habit
        ("next.action", "samples the next action"),
        ("state_action_value", "runs its Q-network"),
        ("priority_weight", "prioritised replay buffer"),
    ],
)
def test_sac_keys_with_a_computed_key_are_rejected(sol, sac_loss, extra, expected):
    feedback = ex.check_sac_batch_keys(sol.solve_sac_batch_keys() | {extra}, sac_loss)
    assert feedback.status == "wrong" and expected in feedback.hint


def test_sac_keys_with_root_reward_are_rejected(sol, sac_loss):
    answer = (sol.solve_sac_batch_keys() - {"next.reward"}) | {"reward"}
    feedback = ex.check_sac_batch_keys(answer, sac_loss)
    assert feedback.status == "wrong" and "reads 'next.reward'" in feedback.message


def test_sac_keys_without_the_next_step_are_rejected(sac_loss):
    feedback = ex.check_sac_batch_keys({"observation", "action"}, sac_loss)
    assert feedback.status == "wrong" and "next.reward" in feedback.message


def test_sac_keys_as_one_string_are_rejected(sac_loss):
    feedback = ex.check_sac_batch_keys("observation, action", sac_loss)
    assert feedback.status == "wrong" and "expected a set" in feedback.message


# --- exercise 2: a buffer of sequences ---------------------------------------------------


def test_sequence_buffer_unanswered_is_not_done(cartpole):
    assert ex.check_sequence_buffer(None, cartpole).status == "not done yet"


def test_sequence_buffer_solution_passes(sol, cartpole):
    feedback = ex.check_sequence_buffer(sol.solve_sequence_buffer(), cartpole)
    assert feedback.passed, feedback


def test_num_slices_form_also_passes(cartpole):
    buffer = ReplayBuffer(storage=LazyTensorStorage(1000), batch_size=30,
                          sampler=SliceSampler(num_slices=5, traj_key=("collector", "traj_ids")))
    assert ex.check_sequence_buffer(buffer, cartpole).passed


def test_uniform_sampler_is_rejected(cartpole):
    # the most likely wrong answer: the right batch size, single steps
    buffer = ReplayBuffer(storage=LazyTensorStorage(1000), batch_size=30)
    feedback = ex.check_sequence_buffer(buffer, cartpole)
    assert feedback.status == "wrong" and "single steps" in feedback.message


def test_without_replacement_is_still_single_steps(cartpole):
    buffer = ReplayBuffer(storage=LazyTensorStorage(1000), batch_size=30,
                          sampler=SamplerWithoutReplacement())
    assert "single steps" in ex.check_sequence_buffer(buffer, cartpole).message


def test_six_slices_of_five_are_rejected(cartpole):
    buffer = ReplayBuffer(storage=LazyTensorStorage(1000), batch_size=30,
                          sampler=SliceSampler(slice_len=5, traj_key=("collector", "traj_ids")))
    feedback = ex.check_sequence_buffer(buffer, cartpole)
    assert feedback.status == "wrong" and "runs of 6" in feedback.message


def test_small_storage_and_missing_batch_size_are_rejected(cartpole):
    small = ReplayBuffer(storage=LazyTensorStorage(100), batch_size=30,
                         sampler=SliceSampler(slice_len=6, traj_key=("collector", "traj_ids")))
    assert "room for 100" in ex.check_sequence_buffer(small, cartpole).message
    no_batch = ReplayBuffer(storage=ListStorage(1000),
                            sampler=SliceSampler(slice_len=6, traj_key=("collector", "traj_ids")))
    assert "no batch_size" in ex.check_sequence_buffer(no_batch, cartpole).message


def test_not_a_buffer_is_rejected(cartpole):
    feedback = ex.check_sequence_buffer(LazyTensorStorage(1000), cartpole)
    assert feedback.status == "wrong" and "not a ReplayBuffer" in feedback.message
