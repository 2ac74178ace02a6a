"""Lesson 09's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.envs import GymEnv
from torchrl.modules import (
    MLP,
    ActorCriticOperator,
    ActorCriticWrapper,
    ActorValueOperator,
    OneHotCategorical,
    ProbabilisticActor,
    TanhNormal,
    ValueOperator,
)

from rltutor.exercises import lesson09 as ex
from rltutor.policies import make_qvalue_policy
from rltutor.rollouts import rollout


@pytest.fixture(scope="module")
def sol():
    return load_solution("09_actor_critic")


@pytest.fixture
def env():
    env = GymEnv("CartPole-v1")
    env.set_seed(0)
    return env


def _parts(env, head_key="features", value_key="features", value_out=1):
    torch.manual_seed(0)
    trunk = TensorDictModule(MLP(in_features=4, out_features=8, num_cells=[8]),
                             in_keys=["observation"], out_keys=["features"])
    width = 8 if head_key == "features" else 4
    policy_head = ProbabilisticActor(
        TensorDictModule(nn.Linear(width, 2), in_keys=[head_key], out_keys=["logits"]),
        in_keys=["logits"], distribution_class=OneHotCategorical, spec=env.action_spec)
    value_width = 8 if value_key == "features" else 4
    value_head = ValueOperator(nn.Linear(value_width, value_out), in_keys=[value_key])
    return trunk, policy_head, value_head


# --- exercise 1: the shared agent ---------------------------------------------------------


def test_shared_agent_unanswered_is_not_done(env):
    assert ex.check_shared_agent(None, env).status == "not done yet"


def test_shared_agent_solution_passes(sol, env):
    feedback = ex.check_shared_agent(sol.solve_shared_agent(env), env)
    assert feedback.passed, feedback


def test_shared_agent_any_feature_key_passes(env):
    assert ex.check_shared_agent(ActorValueOperator(*_parts(env)), env).passed


def test_shared_agent_mistake_value_head_reading_the_observation(env):
    # the most likely wrong answer: it runs, but the value head skips the trunk
    agent = ActorValueOperator(*_parts(env, value_key="observation"))
    feedback = ex.check_shared_agent(agent, env)
    assert feedback.status == "wrong"
    assert "value head reads ['observation']" in feedback.message


def test_policy_head_reading_the_observation_is_rejected(env):
    agent = ActorValueOperator(*_parts(env, head_key="observation"))
    feedback = ex.check_shared_agent(agent, env)
    assert feedback.status == "wrong" and "policy head" in feedback.message


def test_wrapper_is_rejected(env):
    _, policy_head, _ = _parts(env, head_key="observation")
    value = ValueOperator(nn.Linear(4, 1), in_keys=["observation"])
    feedback = ex.check_shared_agent(ActorCriticWrapper(policy_head, value), env)
    assert feedback.status == "wrong" and "nothing is shared" in feedback.message


def test_critic_operator_is_rejected(env):
    trunk, policy_head, _ = _parts(env)
    q_head = ValueOperator(nn.Linear(10, 1), in_keys=["features", "action"])
    feedback = ex.check_shared_agent(ActorCriticOperator(trunk, policy_head, q_head), env)
    assert feedback.status == "wrong" and "state_action_value" in feedback.message


def test_value_head_with_two_outputs_is_rejected(env):
    feedback = ex.check_shared_agent(ActorValueOperator(*_parts(env, value_out=2)), env)
    assert feedback.status == "wrong" and "one number per state" in feedback.message


def test_plain_module_is_rejected(env):
    trunk, _, _ = _parts(env)
    feedback = ex.check_shared_agent(trunk, env)
    assert feedback.status == "wrong" and "not an ActorValueOperator" in feedback.message


def test_check_leaves_the_parameters_as_they_were(sol, env):
    agent = sol.solve_shared_agent(env)
    before = [p.clone() for p in agent.parameters()]
    ex.check_shared_agent(agent, env)
    assert all(torch.equal(a, b) for a, b in zip(before, agent.parameters()))


# --- exercise 2: return-to-go with episode ends -----------------------------------------


@pytest.fixture(scope="module")
def cartpole_td():
    env = GymEnv("CartPole-v1")
    td = rollout(env, make_qvalue_policy(env), steps=60, seed=0, exploration="deterministic",
                 break_when_done=False)
    assert int(td["next", "done"].sum()) >= 2  # the exercise needs episode ends
    return td


def test_return_to_go_unanswered_is_not_done(cartpole_td):
    assert ex.check_return_to_go(None, cartpole_td, gamma=0.9).status == "not done yet"


def test_return_to_go_solution_passes(sol, cartpole_td):
    answer = sol.solve_return_to_go(cartpole_td, gamma=0.9)
    feedback = ex.check_return_to_go(answer, cartpole_td, gamma=0.9)
    assert feedback.passed, feedback


def _lesson_version(rewards, gamma):
    # the cell of section 6, copied: right for one episode, wrong across episode ends
    returns, running = torch.zeros_like(rewards), torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def test_return_to_go_nearest_cell_section_6_loop_is_rejected(cartpole_td):
    answer = _lesson_version(cartpole_td["next", "reward"], 0.9)
    feedback = ex.check_return_to_go(answer, cartpole_td, gamma=0.9)
    assert feedback.status == "wrong" and "never restart" in feedback.message


def test_return_to_go_mistake_root_done_is_named(cartpole_td):
    # the off-by-one key: the root done belongs to the step's start (False after resets)
    answer = ex.return_to_go_with_ends(cartpole_td["next", "reward"], cartpole_td["done"], 0.9)
    feedback = ex.check_return_to_go(answer, cartpole_td, gamma=0.9)
    assert feedback.status == "wrong"
    assert "cartpole_td['done']" in feedback.message and "*before* the step" in feedback.message
    assert "'next'" not in feedback.hint  # says where to look without handing over the key


def test_return_to_go_without_a_root_done_says_sums_run_across_ends(cartpole_td):
    td = cartpole_td.exclude("done")
    answer = _lesson_version(td["next", "reward"], 0.9)
    feedback = ex.check_return_to_go(answer, td, gamma=0.9)
    assert feedback.status == "wrong" and "across episode ends" in feedback.message


def test_undiscounted_sums_are_rejected(cartpole_td):
    answer = ex.return_to_go_with_ends(cartpole_td["next", "reward"],
                                       cartpole_td["next", "done"], 1.0)
    feedback = ex.check_return_to_go(answer, cartpole_td, gamma=0.9)
    assert feedback.status == "wrong" and "plain sums" in feedback.message


def test_flat_shape_is_rejected(sol, cartpole_td):
    answer = sol.solve_return_to_go(cartpole_td, gamma=0.9).flatten()
    feedback = ex.check_return_to_go(answer, cartpole_td, gamma=0.9)
    assert feedback.status == "wrong" and "expected (60, 1)" in feedback.message


def test_off_by_one_reset_is_rejected(cartpole_td):
    # resetting one step too late: the step after an end still counts the old episode
    rewards, done = cartpole_td["next", "reward"], cartpole_td["next", "done"]
    shifted = torch.cat([torch.zeros_like(done[:1]), done[:-1]])
    answer = ex.return_to_go_with_ends(rewards, shifted, 0.9)
    feedback = ex.check_return_to_go(answer, cartpole_td, gamma=0.9)
    assert feedback.status == "wrong" and "one step late" in feedback.message


# --- the Pendulum agent of section 2, copied for CartPole --------------------------------


def _pendulum_agent(n_obs):
    pendulum = GymEnv("Pendulum-v1")
    trunk = TensorDictModule(MLP(in_features=n_obs, out_features=32, num_cells=[32]),
                             in_keys=["observation"], out_keys=["hidden"])
    policy_head = ProbabilisticActor(
        TensorDictModule(nn.Sequential(nn.Linear(32, 2), NormalParamExtractor()),
                         in_keys=["hidden"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=pendulum.action_spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": -2.0, "high": 2.0}, return_log_prob=True)
    return ActorValueOperator(trunk, policy_head, ValueOperator(nn.Linear(32, 1),
                                                                in_keys=["hidden"]))


def test_shared_agent_pendulum_copy_names_the_observation_width(env):
    feedback = ex.check_shared_agent(_pendulum_agent(3), env)
    assert feedback.status == "wrong" and "mat1" not in feedback.message
    assert "expects 3 numbers" in feedback.message and "has 4" in feedback.message
    assert "observation_spec" in feedback.hint


def test_shared_agent_nearest_cell_pendulum_agent_with_4_inputs_is_rejected(env):
    # section 2's cell with in_features 3 -> 4: it runs, but writes a Pendulum action
    feedback = ex.check_shared_agent(_pendulum_agent(4), env)
    assert feedback.status == "wrong" and "not a legal CartPole action" in feedback.message


def test_shared_agent_head_of_the_wrong_width_is_named(env):
    trunk, policy_head, _ = _parts(env)
    value_head = ValueOperator(nn.Linear(5, 1), in_keys=["features"])
    feedback = ex.check_shared_agent(ActorValueOperator(trunk, policy_head, value_head), env)
    assert feedback.status == "wrong" and "value head's first layer expects 5" in feedback.message


def test_shared_agent_check_leaves_the_global_rng_alone(sol, env):
    agent = sol.solve_shared_agent(env)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ex.check_shared_agent(agent, env)
    assert torch.equal(torch.rand(3), expected)
