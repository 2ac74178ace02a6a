"""Lesson 05's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs import GymEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MLP, EGreedyModule, QValueActor, QValueModule

from rltutor.exercises import lesson05 as ex

SOLUTIONS = Path(__file__).resolve().parents[1] / "lessons" / "solutions"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sol():
    return _load("05_q_value_actors")


@pytest.fixture
def env():
    env = GymEnv("CartPole-v1")
    env.set_seed(0)
    return env


def _net(out_features: int = 2) -> MLP:
    torch.manual_seed(0)
    return MLP(in_features=4, out_features=out_features, num_cells=[16])


# --- exercise 1: the Q-value policy ------------------------------------------------------


def test_qvalue_policy_unanswered_is_not_done(env):
    assert ex.check_qvalue_policy(None, env).status == "not done yet"


def test_qvalue_policy_solution_passes(sol, env):
    feedback = ex.check_qvalue_policy(sol.solve_qvalue_policy(env), env)
    assert feedback.passed, feedback


def test_qvalue_actor_shortcut_also_passes(env):
    actor = QValueActor(_net(), in_keys=["observation"], spec=env.action_spec)
    assert ex.check_qvalue_policy(actor, env).passed


def _value_net(out_key: str = "action_value", out_features: int = 2) -> TensorDictModule:
    return TensorDictModule(_net(out_features), in_keys=["observation"], out_keys=[out_key])


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda e: _net(), "not a TensorDict module"),
        (lambda e: _value_net(), "no QValueModule"),
        (lambda e: QValueModule(spec=e.action_spec), "QValueModule alone"),
        (
            lambda e: TensorDictSequential(
                _value_net("q_values"), QValueModule(spec=e.action_spec)
            ),
            "must write 'action_value'",
        ),
        (
            lambda e: TensorDictSequential(
                _value_net(out_features=3), QValueModule(spec=e.action_spec)
            ),
            "3 entries",
        ),
        (
            lambda e: TensorDictSequential(_value_net(), QValueModule(action_space="categorical")),
            "one-hot",
        ),
        (
            lambda e: TensorDictSequential(
                _value_net(), QValueModule(spec=e.action_spec), EGreedyModule(e.action_spec)
            ),
            "EGreedyModule",
        ),
    ],
)
def test_qvalue_policy_typical_mistakes(env, build, expected):
    feedback = ex.check_qvalue_policy(build(env), env)
    assert feedback.status == "wrong"
    assert expected in str(feedback), feedback
    assert feedback.hint


# --- exercise 2: which steps did e-greedy override? --------------------------------------


@pytest.fixture
def explored(sol, env):
    policy = TensorDictSequential(
        sol.solve_qvalue_policy(env), EGreedyModule(env.action_spec, eps_init=0.5, eps_end=0.5)
    )
    torch.manual_seed(0)
    with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        return env.rollout(60, policy, break_when_any_done=False)


def test_overridden_unanswered_is_not_done(explored):
    assert ex.check_overridden_steps(None, explored).status == "not done yet"


def test_overridden_solution_passes_and_some_steps_were_overridden(sol, explored):
    answer = sol.solve_overridden_steps(explored)
    assert 0 < int(answer.sum()) < len(answer)  # the exercise is not trivial for this seed
    feedback = ex.check_overridden_steps(answer, explored)
    assert feedback.passed, feedback


def test_overridden_typical_mistakes(sol, explored):
    right = sol.solve_overridden_steps(explored)
    as_ints = ex.check_overridden_steps(right.long(), explored)
    assert as_ints.status == "wrong" and "dtype" in as_ints.message
    per_entry = explored["action"] != explored["action_value"].argmax(-1, keepdim=True)
    assert "shape" in ex.check_overridden_steps(per_entry, explored).message
    inverted = ex.check_overridden_steps(~right, explored)
    assert inverted.status == "wrong" and "wrong at steps" in inverted.message
    as_list = ex.check_overridden_steps(right.tolist(), explored)
    assert as_list.status == "wrong" and "torch.Tensor" in as_list.message
