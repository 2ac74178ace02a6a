"""Lesson 01's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.envs import GymEnv

from rltutor.exercises import lesson01 as ex

sol = load_solution("01_tensordict_module")


@pytest.fixture(scope="module")
def rollouts():
    """The lesson's rollout_td (10 steps) and long_td (a whole 200-step episode)."""
    torch.manual_seed(0)
    env = GymEnv("Pendulum-v1")
    env.set_seed(0)
    policy = TensorDictModule(nn.LazyLinear(1), in_keys=["observation"], out_keys=["action"])
    with torch.no_grad():
        return env.rollout(10, policy), env.rollout(300, policy)


@pytest.fixture(scope="module")
def long_td(rollouts):
    return rollouts[1]


def test_unanswered_is_not_done(long_td):
    assert ex.check_episode_return(None, long_td).status == "not done yet"
    assert ex.check_bounded_policy(None).status == "not done yet"
    assert ex.check_bounded_policy(...).status == "not done yet"


def test_episode_return_solution_passes(long_td):
    feedback = ex.check_episode_return(sol.solve_episode_return(long_td), long_td)
    assert feedback.passed, feedback
    # a plain float works as well as a tensor
    assert ex.check_episode_return(float(long_td["next", "reward"].sum()), long_td).passed


def test_episode_return_nearest_cell_first_reward_is_wrong(long_td):
    # the old exercise's answer, and the rollout-reading cell's indexing: one reward
    feedback = ex.check_episode_return(long_td["next", "reward"][0], long_td)
    assert feedback.status == "wrong"
    assert "reward of step 0 only" in feedback.message and "200 steps" in feedback.message
    assert ".sum" not in feedback.hint


def test_episode_return_nearest_cell_last_reward_is_wrong(long_td):
    feedback = ex.check_episode_return(long_td["next", "reward"][-1], long_td)
    assert feedback.status == "wrong"
    assert "reward of step 199 only" in feedback.message


def test_episode_return_mistake_short_rollout_is_wrong(rollouts, long_td):
    rollout_td, _ = rollouts
    # rollout_td is a different episode (its own reset): not a prefix of long_td's sums
    feedback = ex.check_episode_return(rollout_td["next", "reward"].sum(), long_td)
    assert feedback.status == "wrong"
    feedback = ex.check_episode_return(long_td["next", "reward"][:10].sum(), long_td)
    assert feedback.status == "wrong"
    assert "first 10 of the episode's 200 rewards" in feedback.message


def test_episode_return_mistake_mean_is_wrong(long_td):
    feedback = ex.check_episode_return(long_td["next", "reward"].mean(), long_td)
    assert feedback.status == "wrong"
    assert "average reward per step" in feedback.message


def test_episode_return_mistake_all_rewards_is_wrong(long_td):
    feedback = ex.check_episode_return(long_td["next", "reward"], long_td)
    assert feedback.status == "wrong"
    assert "200 numbers" in feedback.message


def test_episode_return_mistake_observation_sum_is_wrong(long_td):
    feedback = ex.check_episode_return(long_td["observation"].sum(), long_td)
    assert feedback.status == "wrong"
    assert "not the sum of this episode's rewards" in feedback.message


def test_episode_return_mistake_wrong_type_is_named(long_td):
    feedback = ex.check_episode_return("-900", long_td)
    assert feedback.status == "wrong"
    assert "a str" in feedback.message


def test_bounded_policy_solution_passes():
    feedback = ex.check_bounded_policy(sol.solve_bounded_policy())
    assert feedback.passed, feedback


def test_bounded_policy_check_leaves_global_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    ex.check_bounded_policy(sol.solve_bounded_policy())
    assert torch.equal(torch.rand(1), expected)


def test_bounded_policy_nearest_cell_plain_linear_is_unbounded():
    # the lesson's `policy` cell, copied: a lazy linear layer in a TensorDictModule
    policy = TensorDictModule(nn.LazyLinear(1), in_keys=["observation"], out_keys=["action"])
    feedback = ex.check_bounded_policy(policy)
    assert feedback.status == "wrong"
    assert "nothing in the network limits its output" in feedback.message
    assert "Hardtanh" not in feedback.hint and "Tanh" not in feedback.hint


def test_bounded_policy_mistake_tanh_alone_never_reaches_full_strength():
    policy = TensorDictModule(nn.Sequential(nn.LazyLinear(1), nn.Tanh()), ["observation"],
                              ["action"])
    feedback = ex.check_bounded_policy(policy)
    assert feedback.status == "wrong"
    assert "full strength" in feedback.message


def test_bounded_policy_tanh_scaled_by_two_passes():
    class TwiceTanh(nn.Module):
        def forward(self, x):
            return 2 * torch.tanh(x)

    policy = TensorDictModule(nn.Sequential(nn.LazyLinear(1), TwiceTanh()), ["observation"],
                              ["action"])
    assert ex.check_bounded_policy(policy).passed


def test_bounded_policy_mistake_plain_module_is_told_to_wrap():
    feedback = ex.check_bounded_policy(nn.Sequential(nn.LazyLinear(1), nn.Tanh()))
    assert feedback.status == "wrong"
    assert "TensorDictModule(" in feedback.hint


@pytest.mark.parametrize(
    ("in_keys", "out_keys", "expected"),
    [(["obs"], ["action"], "reads ['obs']"), (["observation"], ["torque"], "writes ['torque']")],
)
def test_wrong_keys_are_named(in_keys, out_keys, expected):
    policy = TensorDictModule(nn.Sequential(nn.LazyLinear(1), nn.Tanh()), in_keys, out_keys)
    feedback = ex.check_bounded_policy(policy)
    assert feedback.status == "wrong"
    assert expected in feedback.message


def test_wrong_action_size_is_wrong():
    policy = TensorDictModule(
        nn.Sequential(nn.LazyLinear(2), nn.Tanh()), ["observation"], ["action"]
    )
    feedback = ex.check_bounded_policy(policy)
    assert feedback.status == "wrong"
    assert "(256, 2)" in feedback.message


def test_bounded_policy_mistake_constant_policy_is_wrong():
    class Zero(nn.Module):
        def forward(self, obs):
            return torch.zeros(*obs.shape[:-1], 1)

    feedback = ex.check_bounded_policy(TensorDictModule(Zero(), ["observation"], ["action"]))
    assert feedback.status == "wrong"
    assert "same for every observation" in feedback.message


def test_crashing_policy_is_reported_not_raised():
    policy = TensorDictModule(nn.Linear(5, 1), ["observation"], ["action"])  # Pendulum has 3
    feedback = ex.check_bounded_policy(policy)
    assert feedback.status == "wrong"
    assert "raised RuntimeError" in feedback.message
