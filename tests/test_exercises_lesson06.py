"""Lesson 06's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import GymEnv, InitTracker, TransformedEnv, UnaryTransform
from torchrl.modules import GRUModule, LSTMModule

from rltutor.exercises import lesson06 as ex

SOLUTIONS = Path(__file__).resolve().parents[1] / "lessons" / "solutions"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load("06_recurrent_policies")


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


# ------------------------------------------------------------------ check_gru_policy


def test_unanswered_is_not_done(lstm_rollout):
    assert ex.check_gru_policy(None, None).status == "not done yet"
    assert ex.check_gru_policy(gru_policy()[1], None).status == "not done yet"
    assert ex.check_replayed_memory(None, lstm_rollout[1]).status == "not done yet"


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


# ------------------------------------------------------------------ check_replayed_memory


def test_replay_solution_passes(lstm_rollout):
    policy, rollout_td = lstm_rollout
    feedback = ex.check_replayed_memory(sol.solve_replayed_memory(policy, rollout_td), rollout_td)
    assert feedback.passed, feedback


def test_replay_without_recurrent_mode_is_wrong(lstm_rollout):
    # the classic slip: calling the policy on the rollout without recurrent mode
    policy, rollout_td = lstm_rollout
    inputs = rollout_td.select("position", "is_init").clone()  # and forgetting the state
    with torch.no_grad():
        out = policy(inputs)["memory"]
    feedback = ex.check_replayed_memory(out, rollout_td)
    assert feedback.status == "wrong" and "set_recurrent_mode" in feedback.hint


def test_replay_handing_back_the_rollout_entry_is_wrong(lstm_rollout):
    _, rollout_td = lstm_rollout
    feedback = ex.check_replayed_memory(rollout_td["memory"], rollout_td)
    assert feedback.status == "wrong" and "not a replay" in feedback.message


def test_replay_wrong_shape_and_type(lstm_rollout):
    policy, rollout_td = lstm_rollout
    assert "shape" in ex.check_replayed_memory(torch.zeros(3, 16), rollout_td).message
    assert "TensorDict" in ex.check_replayed_memory(rollout_td, rollout_td).message
