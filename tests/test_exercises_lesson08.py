"""Lesson 08's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from torchrl.collectors import Collector
from torchrl.envs import GymEnv, SerialEnv

from rltutor.exercises import lesson08 as ex
from rltutor.policies import make_actor

sol = load_solution("08_batched_envs_and_devices")


def make_pendulum() -> GymEnv:
    return GymEnv("Pendulum-v1")


@pytest.fixture(scope="module")
def policy():
    return make_actor(make_pendulum(), num_cells=(8,))


@pytest.fixture(scope="module")
def rollout_td(policy):
    env = SerialEnv(3, make_pendulum)
    env.set_seed(0)
    with torch.no_grad():
        td = env.rollout(30, policy)
    env.close()
    return td


def test_unanswered_is_not_done(rollout_td):
    assert ex.check_env2_rewards(None, rollout_td).status == "not done yet"
    assert ex.check_collector(None).status == "not done yet"


def test_env2_solution_passes(rollout_td):
    feedback = ex.check_env2_rewards(sol.solve_env2_rewards(rollout_td), rollout_td)
    assert feedback.passed, feedback
    assert ex.check_env2_rewards(rollout_td["next", "reward"][2, :, 0], rollout_td).passed


def test_env2_time_index_is_wrong(rollout_td):
    feedback = ex.check_env2_rewards(rollout_td["next", "reward"][:, 2], rollout_td)
    assert feedback.status == "wrong" and "*step* 2" in feedback.message


def test_env2_off_by_one_is_wrong(rollout_td):
    feedback = ex.check_env2_rewards(rollout_td["next", "reward"][1], rollout_td)
    assert feedback.status == "wrong" and "environment 1" in feedback.message


def test_env2_root_reward_or_other_values_are_wrong(rollout_td):
    feedback = ex.check_env2_rewards(torch.zeros(30), rollout_td)
    assert feedback.status == "wrong" and "'next'" in feedback.hint
    assert ex.check_env2_rewards([1.0], rollout_td).status == "wrong"


def test_collector_solution_passes(policy):
    feedback = ex.check_collector(sol.solve_collector(make_pendulum, policy))
    assert feedback.passed, feedback


def test_collector_with_three_envs_is_wrong(policy):
    collector = Collector(SerialEnv(3, make_pendulum), policy, frames_per_batch=60,
                          total_frames=120, auto_register_policy_transforms=True)
    feedback = ex.check_collector(collector)
    assert feedback.status == "wrong" and "SerialEnv(4" in feedback.hint


def test_collector_with_wrong_batch_size_is_wrong(policy):
    collector = Collector(SerialEnv(4, make_pendulum), policy, frames_per_batch=40,
                          total_frames=160, auto_register_policy_transforms=False)
    feedback = ex.check_collector(collector)
    assert feedback.status == "wrong" and "frames_per_batch=80" in feedback.hint


def test_collector_with_wrong_total_is_wrong(policy):
    collector = Collector(SerialEnv(4, make_pendulum), policy, frames_per_batch=80,
                          total_frames=240, auto_register_policy_transforms=True)
    feedback = ex.check_collector(collector)
    assert feedback.status == "wrong" and "total_frames=160" in feedback.hint


def test_collector_that_warns_about_transforms_is_wrong(policy):
    # the old solution: right shape and totals, but it leaves the transform question open
    # and prints a FutureWarning
    with pytest.warns(FutureWarning, match="auto_register_policy_transforms"):
        collector = Collector(SerialEnv(4, make_pendulum), policy, frames_per_batch=80,
                              total_frames=160)
    feedback = ex.check_collector(collector)
    assert feedback.status == "wrong" and "auto_register_policy_transforms" in feedback.hint


def test_collector_that_opts_out_passes(policy):
    collector = Collector(SerialEnv(4, make_pendulum), policy, frames_per_batch=80,
                          total_frames=160, auto_register_policy_transforms=False)
    assert ex.check_collector(collector).passed


def test_env_instead_of_collector_is_wrong():
    feedback = ex.check_collector(SerialEnv(4, make_pendulum))
    assert feedback.status == "wrong" and "Collector" in feedback.hint
