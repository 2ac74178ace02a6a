"""Lesson 05's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs import GymEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MLP, EGreedyModule, QValueActor, QValueModule

import rltutor
from rltutor.exercises import lesson05 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("05_q_value_actors")


@pytest.fixture
def env():
    env = GymEnv("CartPole-v1")
    env.set_seed(0)
    return env


# --- exercise 1: a Q-value policy for Acrobot's index actions ---------------------------


@pytest.fixture
def index_env():
    env = GymEnv("Acrobot-v1", categorical_action_encoding=True)
    env.set_seed(0)
    return env


def _acrobot_policy(spec, out_features: int = 3, out_key: str = "action_value"):
    torch.manual_seed(0)
    net = MLP(in_features=6, out_features=out_features, num_cells=[16])
    value_net = TensorDictModule(net, in_keys=["observation"], out_keys=[out_key])
    return TensorDictSequential(value_net, QValueModule(spec=spec))


def test_index_qvalue_policy_unanswered_is_not_done(index_env):
    assert ex.check_index_qvalue_policy(None, index_env).status == "not done yet"
    assert ex.check_index_qvalue_policy(_acrobot_policy(index_env.action_spec),
                                        None).status == "not done yet"


def test_index_qvalue_policy_solution_passes(sol):
    policy, index_env = sol.solve_index_qvalue_policy()
    feedback = ex.check_index_qvalue_policy(policy, index_env)
    assert feedback.passed, feedback
    assert "one index" in feedback.message


def test_index_qvalue_policy_solution_qvalue_actor_also_passes(index_env):
    torch.manual_seed(0)
    actor = QValueActor(MLP(in_features=6, out_features=3, num_cells=[16]),
                        in_keys=["observation"], spec=index_env.action_spec)
    assert ex.check_index_qvalue_policy(actor, index_env).passed


def test_index_qvalue_policy_nearest_cell_copied_for_acrobot_is_wrong():
    # the lesson's q_policy cell with the numbers changed for Acrobot (6 in, 3 out), on
    # an env made as the lesson makes its envs: the actions stay one-hot
    onehot_env = rltutor.make_env("Acrobot-v1", seed=0)
    feedback = ex.check_index_qvalue_policy(_acrobot_policy(onehot_env.action_spec), onehot_env)
    assert feedback.status == "wrong" and "OneHot" in feedback.message, feedback
    assert "help(GymEnv)" in feedback.hint
    assert "categorical_action_encoding" not in str(feedback)  # says what, not the answer


def test_index_qvalue_policy_nearest_cell_lessons_own_policy_is_wrong(env, index_env):
    # the lesson's own q_policy, unchanged (CartPole's one-hot spec), handed in as the answer
    torch.manual_seed(0)
    value_net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[32]),
                                 in_keys=["observation"], out_keys=["action_value"])
    q_policy = TensorDictSequential(value_net, QValueModule(spec=env.action_spec))
    feedback = ex.check_index_qvalue_policy(q_policy, index_env)
    assert feedback.status == "wrong" and "'one_hot' actions" in feedback.message, feedback
    feedback = ex.check_index_qvalue_policy(q_policy, env)
    assert feedback.status == "wrong" and "Acrobot-v1" in feedback.message


def test_index_qvalue_policy_mistake_one_hot_spec_on_the_index_env(index_env):
    # the most likely slip: the QValueModule got a one-hot spec (another env's)
    onehot_spec = rltutor.make_env("Acrobot-v1").action_spec
    feedback = ex.check_index_qvalue_policy(_acrobot_policy(onehot_spec), index_env)
    assert feedback.status == "wrong" and "'one_hot' actions" in feedback.message
    assert "spec" in feedback.hint


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda e: MLP(in_features=6, out_features=3, num_cells=[8]), "not a TensorDict module"),
        (lambda e: _acrobot_policy(e.action_spec)[0], "no QValueModule"),
        (lambda e: QValueModule(spec=e.action_spec), "QValueModule alone"),
        (lambda e: _acrobot_policy(e.action_spec, out_key="q_values"),
         "must write 'action_value'"),
        (lambda e: _acrobot_policy(e.action_spec, out_features=2), "2 entries"),
        (lambda e: TensorDictSequential(_acrobot_policy(e.action_spec),
                                        EGreedyModule(e.action_spec)), "EGreedyModule"),
    ],
)
def test_index_qvalue_policy_mistakes(index_env, build, expected):
    feedback = ex.check_index_qvalue_policy(build(index_env), index_env)
    assert feedback.status == "wrong"
    assert expected in str(feedback), feedback
    assert feedback.hint


def test_index_qvalue_policy_not_an_env_is_wrong():
    spec = GymEnv("Acrobot-v1", categorical_action_encoding=True).action_spec
    feedback = ex.check_index_qvalue_policy(_acrobot_policy(spec), "Acrobot-v1")
    assert feedback.status == "wrong" and "not a TorchRL environment" in feedback.message


def test_index_qvalue_policy_check_leaves_the_learners_rng_and_env_alone(sol):
    policy, index_env = sol.solve_index_qvalue_policy()
    index_env.set_seed(3)
    torch.manual_seed(3)
    rng = torch.get_rng_state()
    assert ex.check_index_qvalue_policy(policy, index_env).passed
    assert torch.equal(torch.get_rng_state(), rng)
    untouched = GymEnv("Acrobot-v1", categorical_action_encoding=True)
    untouched.set_seed(3)
    assert torch.equal(index_env.reset()["observation"], untouched.reset()["observation"])


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


def test_overridden_fraction_nearest_cell_copied_is_wrong(lesson_objects):
    # the cell above the exercise: taken != greedy on explored_td, whatever eps is asked
    _, _, explored = lesson_objects

    def from_the_cell(eps):
        taken, greedy = explored["action"].argmax(-1), explored["action_value"].argmax(-1)
        return (taken != greedy).float().mean().item()

    feedback = ex.check_overridden_fraction(from_the_cell)
    assert feedback.status == "wrong" and "hardly changes with eps" in feedback.message


def test_overridden_fraction_mistake_eps_itself():
    feedback = ex.check_overridden_fraction(lambda eps: eps)
    assert feedback.status == "wrong" and "eps itself" in feedback.message
    assert "half of the time" in feedback.hint


def test_overridden_fraction_mistake_wrong_comparison(lesson_objects):
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


def test_overridden_fraction_check_leaves_the_learners_rng_alone(sol, lesson_objects):
    env, balancer, explored = lesson_objects
    torch.manual_seed(5)
    rng = torch.get_rng_state()
    assert ex.check_overridden_fraction(
        sol.solve_overridden_fraction(balancer, explored, env)).passed
    assert torch.equal(torch.get_rng_state(), rng)
