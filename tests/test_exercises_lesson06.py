"""Lesson 06's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from conftest import SOLUTIONS, load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import GymEnv, InitTracker, TransformedEnv, UnaryTransform
from torchrl.modules import GRUModule, LSTMModule, set_recurrent_mode

from rltutor.exercises import lesson06 as ex

sol = load_solution("06_recurrent_policies")


def make_pomdp_env() -> TransformedEnv:
    # as in the lesson: the policy may read 'position' (cos, sin) only
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    env.append_transform(UnaryTransform(in_keys=["observation"], out_keys=["position"],
                                        fn=lambda obs: obs[..., :2]))
    env.set_seed(0)
    return env


def gru_policy(in_key: str = "position", in_size: int = 2) -> tuple[GRUModule, Any]:
    torch.manual_seed(0)
    gru = GRUModule(input_size=in_size, hidden_size=8, in_key=in_key, out_key="memory")
    head = TensorDictModule(nn.Linear(8, 1), in_keys=["memory"], out_keys=["action"])
    return gru, TensorDictSequential(gru, head)


@pytest.fixture(scope="module")
def lstm_rollout():
    torch.manual_seed(0)
    env = make_pomdp_env()
    lstm = LSTMModule(input_size=2, hidden_size=16, in_key="position", out_key="memory")
    policy = TensorDictSequential(
        lstm, TensorDictModule(nn.Linear(16, 1), in_keys=["memory"], out_keys=["action"]))
    env.append_transform(lstm.make_tensordict_primer())
    with torch.no_grad():
        return policy, env.rollout(50, policy)


@pytest.fixture(scope="module")
def two_episodes(lstm_rollout):
    """As in the lesson: two episodes back to back, only what a buffer of observations keeps."""
    policy, first = lstm_rollout
    env = make_pomdp_env()
    env.append_transform(policy[0].make_tensordict_primer())
    env.set_seed(1)
    with torch.no_grad():
        second = env.rollout(30, policy)
    full = torch.cat([first, second])
    return policy, full, full.select("position", "is_init")


# ------------------------------------------------------------------ check_gru_policy


def test_unanswered_is_not_done(lstm_rollout):
    assert ex.check_gru_policy(None, None).status == "not done yet"
    assert ex.check_gru_policy(gru_policy()[1], None).status == "not done yet"


def test_gru_policy_solution_passes():
    policy, env = sol.solve_gru_policy(make_pomdp_env())
    feedback = ex.check_gru_policy(policy, env)
    assert feedback.passed, feedback


def test_gru_policy_mistake_without_primer_says_primer():
    _, policy = gru_policy()
    feedback = ex.check_gru_policy(policy, make_pomdp_env())
    assert feedback.status == "wrong"
    assert "primer" in feedback.message and "make_tensordict_primer" in feedback.hint


def test_gru_policy_nearest_cell_lstm_copied_is_wrong():
    lstm = LSTMModule(input_size=2, hidden_size=8, in_key="position", out_key="memory")
    policy = TensorDictSequential(
        lstm, TensorDictModule(nn.Linear(8, 1), in_keys=["memory"], out_keys=["action"]))
    env = make_pomdp_env()
    env.append_transform(lstm.make_tensordict_primer())
    feedback = ex.check_gru_policy(policy, env)
    assert feedback.status == "wrong" and "LSTMModule" in feedback.message


def test_gru_policy_mistake_reading_the_full_observation():
    gru, policy = gru_policy(in_key="observation", in_size=3)
    env = make_pomdp_env()
    env.append_transform(gru.make_tensordict_primer())
    feedback = ex.check_gru_policy(policy, env)
    assert feedback.status == "wrong" and "velocity" in feedback.message


def test_gru_policy_mistake_primer_on_another_env():
    gru, policy = gru_policy()
    make_pomdp_env().append_transform(gru.make_tensordict_primer())  # not the env checked
    feedback = ex.check_gru_policy(policy, make_pomdp_env())
    assert feedback.status == "wrong"


def test_not_a_module_is_wrong():
    feedback = ex.check_gru_policy(nn.GRU(2, 8), make_pomdp_env())
    assert feedback.status == "wrong" and "TensorDictSequential" in feedback.hint


# ------------------------------------------------------------------ check_side_by_side


@pytest.fixture(scope="module")
def solved(two_episodes):
    policy, _, stored = two_episodes
    side_by_side, memory = sol.solve_side_by_side(stored, policy)
    return policy, stored, side_by_side, memory


def test_side_by_side_unanswered_is_not_done(solved):
    policy, stored, side_by_side, _ = solved
    assert ex.check_side_by_side(None, None, stored, policy).status == "not done yet"
    assert ex.check_side_by_side(side_by_side, None, stored, policy).status == "not done yet"


def test_side_by_side_solution_passes(solved):
    policy, stored, side_by_side, memory = solved
    assert tuple(side_by_side.batch_size) == (2, 50) and memory.shape == (2, 50, 16)
    feedback = ex.check_side_by_side(side_by_side, memory, stored, policy)
    assert feedback.passed, feedback


def test_side_by_side_solution_matches_the_memory_the_policy_had_while_acting(two_episodes,
                                                                              solved):
    # the reference the check builds by stepping is the rollouts' own 'memory' entry
    _, full, _ = two_episodes
    policy, stored, side_by_side, _ = solved
    acted = torch.zeros(2, 50, 16)
    acted[0], acted[1, :30] = full["memory"][:50], full["memory"][50:]
    feedback = ex.check_side_by_side(side_by_side, acted, stored, policy)
    assert feedback.passed, feedback


def test_side_by_side_nearest_cell_replay_pointed_at_two_episodes_is_wrong(solved):
    # the lesson's replay cell, pointed at the exercise's data: one long sequence
    policy, stored, _, _ = solved
    with torch.no_grad(), set_recurrent_mode(True):
        out = policy(stored.clone())["memory"]
    feedback = ex.check_side_by_side(stored, out, stored, policy)
    assert feedback.status == "wrong" and "one after another" in feedback.message
    assert "[2, 50]" in feedback.hint


def test_side_by_side_nearest_cell_on_one_episode_is_wrong(solved, lstm_rollout):
    policy, stored, _, _ = solved
    _, first = lstm_rollout
    one = first.select("position", "is_init")
    with torch.no_grad(), set_recurrent_mode(True):
        out = policy(one.clone())["memory"]
    feedback = ex.check_side_by_side(one, out, stored, policy)
    assert feedback.status == "wrong" and "expected [2, 50]" in feedback.message


def test_side_by_side_mistake_cut_to_the_shorter_episode(two_episodes, solved):
    # torch.stack needs equal lengths: cutting the longer episode loses its last steps
    _, full, _ = two_episodes
    policy, stored, _, _ = solved
    cut = torch.stack([full[:30], full[50:]]).select("position", "is_init")
    with torch.no_grad(), set_recurrent_mode(True):
        out = policy(cut.clone())["memory"]
    feedback = ex.check_side_by_side(cut, out, stored, policy)
    assert feedback.status == "wrong" and "cut" in feedback.message and "pad" in feedback.hint


def test_side_by_side_mistake_time_along_the_first_dim(solved):
    policy, stored, side_by_side, _ = solved
    flipped = side_by_side.transpose(0, 1).contiguous()
    with torch.no_grad(), set_recurrent_mode(True):
        out = policy(flipped.clone())["memory"]
    feedback = ex.check_side_by_side(flipped, out, stored, policy)
    assert feedback.status == "wrong" and "first dim" in feedback.message
    assert "LAST batch dim" in feedback.hint


def test_side_by_side_mistake_sequential_mode(solved):
    policy, stored, side_by_side, _ = solved
    with torch.no_grad():
        out = policy(side_by_side.clone())["memory"]
    feedback = ex.check_side_by_side(side_by_side, out, stored, policy)
    assert feedback.status == "wrong" and "sequential mode" in feedback.message


def test_side_by_side_mistake_ids_that_do_not_follow_the_episodes(solved):
    # ids from the step index instead of the episode starts: rows are not episodes
    from torchrl.collectors.utils import split_trajectories

    policy, stored, _, _ = solved
    with_ids = stored.clone()
    with_ids["traj_ids"] = (torch.arange(stored.shape[0]) >= 30).long()  # rows of 30, 50
    wrong_rows = split_trajectories(with_ids, trajectory_key="traj_ids")
    with torch.no_grad(), set_recurrent_mode(True):
        out = policy(wrong_rows.clone())["memory"]
    feedback = ex.check_side_by_side(wrong_rows, out, stored, policy)
    assert feedback.status == "wrong" and "mask" in feedback.message, feedback
    assert "is_init" in feedback.hint


def test_side_by_side_mistake_no_mask(solved):
    policy, stored, side_by_side, memory = solved
    no_mask = side_by_side.exclude("mask")
    assert "no 'mask'" in ex.check_side_by_side(no_mask, memory, stored, policy).message


def test_side_by_side_wrong_types_and_shapes(solved):
    policy, stored, side_by_side, memory = solved
    assert "not a TensorDict" in ex.check_side_by_side(torch.zeros(2, 50), memory, stored,
                                                       policy).message
    assert "shape" in ex.check_side_by_side(side_by_side, memory[:, :10], stored,
                                            policy).message
    assert "TensorDict, not the tensor" in ex.check_side_by_side(side_by_side, side_by_side,
                                                                 stored, policy).message


def test_the_lesson_hands_the_exercise_no_recurrent_state():
    # issue 12: with the stored states in hand, plain sequential calls rebuild the memory
    # too; the exercise's data keeps only what a buffer of observations holds
    source = (SOLUTIONS.parent / "06_recurrent_policies.py").read_text()
    assert ('two_episodes = torch.cat([rollout_td, second_td]).select("position", "is_init")'
            in source)
    assert "ex.check_side_by_side(side_by_side, replayed_memory, two_episodes, policy)" in source


def test_gru_policy_check_leaves_the_learners_env_and_rng_alone():
    policy, env = sol.solve_gru_policy(make_pomdp_env())
    env.set_seed(3)
    torch.manual_seed(3)
    rng = torch.get_rng_state()
    assert ex.check_gru_policy(policy, env).passed
    assert torch.equal(torch.get_rng_state(), rng)
    untouched = make_pomdp_env()
    untouched.set_seed(3)
    assert torch.equal(env.reset()["observation"], untouched.reset()["observation"])
