"""Lesson 08's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import time

import pytest
import torch
from conftest import load_solution
from torchrl.envs import GymEnv, ParallelEnv, SerialEnv

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
    assert ex.check_best_steps(None, rollout_td).status == "not done yet"
    assert ex.check_parallel_timing(None, None).status == "not done yet"


# --- exercise 1: the best step of each environment ----------------------------------------


def test_best_steps_solution_passes(rollout_td):
    feedback = ex.check_best_steps(sol.solve_best_steps(rollout_td), rollout_td)
    assert feedback.passed, feedback
    assert ex.check_best_steps(sol.solve_best_steps(rollout_td).tolist(), rollout_td).passed


def test_best_steps_mistake_reducing_over_environments_is_named(rollout_td):
    wrong_dim = rollout_td["next", "reward"].squeeze(-1).argmax(dim=0)  # one per step
    feedback = ex.check_best_steps(wrong_dim, rollout_td)
    assert feedback.status == "wrong" and "one per *step*" in feedback.message
    assert "reduce over time" in feedback.hint


def test_best_steps_mistake_lowest_reward_is_named(rollout_td):
    lowest = rollout_td["next", "reward"].squeeze(-1).argmin(dim=1)
    feedback = ex.check_best_steps(lowest, rollout_td)
    assert feedback.status == "wrong" and "*lowest*" in feedback.message


def test_best_steps_mistake_the_best_rewards_themselves_are_rejected(rollout_td):
    values = rollout_td["next", "reward"].squeeze(-1).max(dim=1).values
    feedback = ex.check_best_steps(values, rollout_td)
    assert feedback.status == "wrong" and "not step indices" in feedback.message


def test_best_steps_nearest_cell_rewards_of_the_plot_are_rejected(rollout_td):
    # the plot cell's line, copied: all the rewards, [envs, time]
    rewards = rollout_td["next", "reward"].squeeze(-1)
    feedback = ex.check_best_steps(rewards, rollout_td)
    assert feedback.status == "wrong" and "one step index per environment" in feedback.message
    # and the old exercise's answer, the rewards of environment 2
    feedback = ex.check_best_steps(rollout_td["next", "reward"][2], rollout_td)
    assert feedback.status == "wrong"


# --- exercise 2: SerialEnv against ParallelEnv, timed ----------------------------------


def test_parallel_timing_solution_passes(policy):
    seconds, why = sol.solve_parallel_timing(make_pendulum, policy)
    feedback = ex.check_parallel_timing(seconds, why)
    assert feedback.passed, (feedback, seconds)
    # what the exercise is about: the slow env gains more from workers than Pendulum does
    assert ex._speedup(seconds, "slow") > ex._speedup(seconds, "pendulum")


@pytest.fixture(scope="module")
def honest():
    # numbers as this 2-core machine measured them (solve_parallel_timing, 2026-12-05)
    return {("serial", "pendulum"): 0.23, ("parallel", "pendulum"): 0.72,
            ("serial", "slow"): 4.46, ("parallel", "slow"): 1.86}


@pytest.mark.parametrize(("why", "expected"), [("a", "does not explain"),
                                               ("c", "not always faster"),
                                               ("d", "the workers do wait")])
def test_parallel_timing_mistake_wrong_reason_is_answered_with_the_numbers(honest, why,
                                                                          expected):
    feedback = ex.check_parallel_timing(honest, why)
    assert feedback.status == "wrong" and expected in feedback.message
    assert "x as fast" in feedback.message or "s, at least" in feedback.message


def test_parallel_timing_mistake_swapped_or_start_up_timed_is_rejected(honest):
    swapped = dict(honest)
    swapped[("serial", "slow")], swapped[("parallel", "slow")] = 4.2, 4.9  # start-up timed
    feedback = ex.check_parallel_timing(swapped, "b")
    assert feedback.status == "wrong" and "before the timer" in feedback.hint


def test_parallel_timing_mistake_missing_key_or_letter(honest):
    partial = {k: v for k, v in honest.items() if k[1] == "slow"}
    assert "should be a dict with the keys" in ex.check_parallel_timing(partial, "b").message
    assert "pick one letter" in ex.check_parallel_timing(honest, "B").message


def test_parallel_timing_nearest_cell_plain_pendulum_everywhere_is_rejected(policy):
    # the ParallelEnv cell copied with 4 envs, timed, and the same for SerialEnv: the
    # plain Pendulum stands in for the slow one
    seconds = {}
    for kind in ("serial", "parallel"):
        env = (SerialEnv(4, make_pendulum) if kind == "serial"
               else ParallelEnv(4, make_pendulum, mp_start_method="fork"))
        env.reset()
        start = time.perf_counter()
        with torch.no_grad():
            env.rollout(20, policy)
        seconds[(kind, "pendulum")] = seconds[(kind, "slow")] = time.perf_counter() - start
        env.close()
    feedback = ex.check_parallel_timing(seconds, "b")
    assert feedback.status == "wrong"
    assert "cannot have run ex.make_slow_pendulum" in feedback.message


def test_slow_pendulum_is_slow_and_importable():
    env = ex.make_slow_pendulum()
    start = time.perf_counter()
    env.rollout(3)
    assert time.perf_counter() - start >= 3 * ex.SLOW_DELAY
    assert ex.make_slow_pendulum.__module__ == "rltutor.exercises.lesson08"
