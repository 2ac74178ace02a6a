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
def rollout_td():
    torch.manual_seed(0)
    env = GymEnv("Pendulum-v1")
    env.set_seed(0)
    policy = TensorDictModule(nn.LazyLinear(1), in_keys=["observation"], out_keys=["action"])
    return env.rollout(10, policy)


def test_unanswered_is_not_done(rollout_td):
    assert ex.check_first_reward(None, rollout_td).status == "not done yet"
    assert ex.check_bounded_policy(None).status == "not done yet"
    assert ex.check_bounded_policy(...).status == "not done yet"


def test_first_reward_solution_passes(rollout_td):
    feedback = ex.check_first_reward(sol.solve_first_reward(rollout_td), rollout_td)
    assert feedback.passed, feedback
    # a plain float works as well as a tensor
    assert ex.check_first_reward(float(rollout_td["next", "reward"][0]), rollout_td).passed


def test_first_reward_all_rewards_is_wrong(rollout_td):
    feedback = ex.check_first_reward(rollout_td["next", "reward"], rollout_td)
    assert feedback.status == "wrong"
    assert "all 10 rewards" in feedback.message


def test_first_reward_last_step_names_the_step(rollout_td):
    feedback = ex.check_first_reward(rollout_td["next", "reward"][-1], rollout_td)
    assert feedback.status == "wrong"
    assert "step 9" in feedback.message


def test_first_reward_unrelated_number_is_wrong(rollout_td):
    feedback = ex.check_first_reward(123.0, rollout_td)
    assert feedback.status == "wrong"
    assert "'next'" in feedback.hint


def test_first_reward_observation_is_wrong(rollout_td):
    feedback = ex.check_first_reward(rollout_td["observation"][0], rollout_td)
    assert feedback.status == "wrong"
    assert "shape (3,)" in feedback.message


def test_bounded_policy_solution_passes():
    feedback = ex.check_bounded_policy(sol.solve_bounded_policy())
    assert feedback.passed, feedback


def test_bounded_policy_check_leaves_global_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    ex.check_bounded_policy(sol.solve_bounded_policy())
    assert torch.equal(torch.rand(1), expected)


def test_plain_linear_is_unbounded():
    policy = TensorDictModule(nn.LazyLinear(1), in_keys=["observation"], out_keys=["action"])
    feedback = ex.check_bounded_policy(policy)
    assert feedback.status == "wrong"
    assert "unbounded" in feedback.message and "Hardtanh" in feedback.hint


def test_plain_module_is_told_to_wrap():
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


def test_constant_policy_is_wrong():
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
