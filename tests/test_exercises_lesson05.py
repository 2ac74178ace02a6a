"""Lesson 05's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs import GymEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MLP, EGreedyModule, QValueActor, QValueModule

from rltutor.exercises import lesson05 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("05_q_value_actors")


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


# --- exercise 2: the overridden fraction as a function of eps ----------------------------


@pytest.fixture(scope="module")
def lesson_objects():
    """The lesson's hand-made balancer and its eps = 0.5 rollout (explored_td)."""
    env = GymEnv("CartPole-v1")
    env.set_seed(0)
    by_hand = torch.nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        by_hand.weight.copy_(torch.tensor([[0.0, 0.0, -1.0, -0.5], [0.0, 0.0, 1.0, 0.5]]))
    balancer = TensorDictSequential(
        TensorDictModule(by_hand, in_keys=["observation"], out_keys=["action_value"]),
        QValueModule(spec=env.action_spec))
    explorative = TensorDictSequential(
        balancer, EGreedyModule(spec=env.action_spec, eps_init=0.5, eps_end=0.5))
    torch.manual_seed(0)
    with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        explored = env.rollout(300, explorative, break_when_any_done=False)
    return env, balancer, explored


def test_overridden_fraction_solution_passes(sol, lesson_objects):
    env, balancer, explored = lesson_objects
    feedback = ex.check_overridden_fraction(sol.solve_overridden_fraction(balancer, explored, env))
    assert feedback.passed, feedback
    assert "eps / 2" in feedback.message


def test_copying_the_lessons_cell_does_not_pass(lesson_objects):
    # the cell above the exercise: taken != greedy on explored_td, whatever eps is asked
    _, _, explored = lesson_objects

    def from_the_cell(eps):
        taken, greedy = explored["action"].argmax(-1), explored["action_value"].argmax(-1)
        return (taken != greedy).float().mean().item()

    feedback = ex.check_overridden_fraction(from_the_cell)
    assert feedback.status == "wrong" and "hardly changes with eps" in feedback.message


def test_answering_eps_itself_is_wrong():
    feedback = ex.check_overridden_fraction(lambda eps: eps)
    assert feedback.status == "wrong" and "eps itself" in feedback.message
    assert "half of the time" in feedback.hint


def test_counting_the_wrong_comparison_is_wrong(lesson_objects):
    env, balancer, explored = lesson_objects

    def same_instead_of_different(eps):  # == instead of !=
        egreedy = EGreedyModule(spec=env.action_spec, eps_init=eps, eps_end=eps)
        out = TensorDictSequential(balancer, egreedy)(explored.select("observation").clone())
        return (out["action"].argmax(-1) == out["action_value"].argmax(-1)).float().mean()

    feedback = ex.check_overridden_fraction(same_instead_of_different)
    assert feedback.status == "wrong" and "at eps=0" in feedback.message


def test_overridden_fraction_placeholders_and_types():
    assert ex.check_overridden_fraction(None).status == "not done yet"
    assert ex.check_overridden_fraction(lambda eps: None).status == "not done yet"
    assert "not a function" in ex.check_overridden_fraction(0.25).message
    assert "not one number" in ex.check_overridden_fraction(lambda eps: [eps, eps]).message
