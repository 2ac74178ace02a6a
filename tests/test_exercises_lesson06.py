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


def test_gru_solution_passes():
    policy, env = sol.solve_gru_policy(make_pomdp_env())
    feedback = ex.check_gru_policy(policy, env)
    assert feedback.passed, feedback


def test_gru_without_primer_is_wrong_and_says_primer():
    _, policy = gru_policy()
    feedback = ex.check_gru_policy(policy, make_pomdp_env())
    assert feedback.status == "wrong"
    assert "primer" in feedback.message and "make_tensordict_primer" in feedback.hint


def test_lstm_instead_of_gru_is_wrong():
    lstm = LSTMModule(input_size=2, hidden_size=8, in_key="position", out_key="memory")
    policy = TensorDictSequential(
        lstm, TensorDictModule(nn.Linear(8, 1), in_keys=["memory"], out_keys=["action"]))
    env = make_pomdp_env()
    env.append_transform(lstm.make_tensordict_primer())
    feedback = ex.check_gru_policy(policy, env)
    assert feedback.status == "wrong" and "LSTMModule" in feedback.message


def test_reading_the_full_observation_is_wrong():
    gru, policy = gru_policy(in_key="observation", in_size=3)
    env = make_pomdp_env()
    env.append_transform(gru.make_tensordict_primer())
    feedback = ex.check_gru_policy(policy, env)
    assert feedback.status == "wrong" and "velocity" in feedback.message


def test_primer_on_another_env_is_wrong():
    gru, policy = gru_policy()
    make_pomdp_env().append_transform(gru.make_tensordict_primer())  # not the env checked
    feedback = ex.check_gru_policy(policy, make_pomdp_env())
    assert feedback.status == "wrong"


def test_not_a_module_is_wrong():
    feedback = ex.check_gru_policy(nn.GRU(2, 8), make_pomdp_env())
    assert feedback.status == "wrong" and "TensorDictSequential" in feedback.hint


# ------------------------------------------------------------------ check_episode_replay


def test_replay_solution_passes(two_episodes):
    policy, _, stored = two_episodes
    feedback = ex.check_episode_replay(sol.solve_episode_replay(policy, stored), stored, policy)
    assert feedback.passed, feedback


def test_the_check_compares_with_the_memory_the_policy_had_while_acting(two_episodes):
    # the reference the check builds by stepping is the rollouts' own 'memory' entry
    policy, full, stored = two_episodes
    feedback = ex.check_episode_replay(full["memory"].clone(), stored, policy)
    assert feedback.passed, feedback


def test_replay_in_sequential_mode_is_wrong(two_episodes):
    # issue 12: without set_recurrent_mode the stored steps are unrelated single steps
    policy, _, stored = two_episodes
    with torch.no_grad():
        out = policy(stored.clone())["memory"]
    feedback = ex.check_episode_replay(out, stored, policy)
    assert feedback.status == "wrong" and "sequential mode" in feedback.message
    assert "set_recurrent_mode(True)" in feedback.hint


def test_copying_the_lessons_replay_of_one_episode_is_wrong(two_episodes, lstm_rollout):
    policy, first = lstm_rollout
    _, _, stored = two_episodes
    with torch.no_grad(), set_recurrent_mode(True):
        out = policy(first.select("position", "is_init").clone())["memory"]
    feedback = ex.check_episode_replay(out, stored, policy)
    assert feedback.status == "wrong" and "shape" in feedback.message


def test_replay_that_never_restarts_is_wrong(two_episodes):
    # one long episode: is_init only at step 0, so the second episode inherits the memory
    policy, _, stored = two_episodes
    one_long = stored.clone()
    one_long["is_init"][1:] = False
    with torch.no_grad(), set_recurrent_mode(True):
        out = policy(one_long)["memory"]
    feedback = ex.check_episode_replay(out, stored, policy)
    assert feedback.status == "wrong" and "second episode" in feedback.message


def test_replay_wrong_shape_and_type(two_episodes):
    policy, _, stored = two_episodes
    assert "shape" in ex.check_episode_replay(torch.zeros(3, 16), stored, policy).message
    assert "TensorDict" in ex.check_episode_replay(stored, stored, policy).message
    assert ex.check_episode_replay(None, stored, policy).status == "not done yet"


def test_the_lesson_hands_the_exercise_no_recurrent_state():
    # issue 12: with the stored states in hand, plain sequential calls rebuild the memory
    # too; the exercise's data keeps only what a buffer of observations holds
    source = (SOLUTIONS.parent / "06_recurrent_policies.py").read_text()
    assert ('two_episodes = torch.cat([rollout_td, second_td]).select("position", "is_init")'
            in source)
    assert "ex.check_episode_replay(replayed_memory, two_episodes, policy)" in source
