"""Lesson 13's checks: the solutions pass, typical mistakes fail with a useful message."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.modules import (
    MLP,
    ActorCriticWrapper,
    ActorValueOperator,
    ProbabilisticActor,
    TanhNormal,
    ValueOperator,
)
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE
from torchrl.objectives.value.functional import generalized_advantage_estimate

from rltutor.envs import make_env
from rltutor.exercises import lesson13 as ex


@pytest.fixture(scope="module")
def sol():
    return load_solution("13_ppo_pendulum")


def shared_agent(spec, *, features: int = 64, seed: int = 0):
    """The lesson's section 3 agent (features changeable, as a learner might copy it)."""
    torch.manual_seed(seed)
    trunk = TensorDictModule(MLP(in_features=3, out_features=features, num_cells=[64],
                                 activation_class=nn.Tanh, activate_last_layer=True),
                             in_keys=["observation"], out_keys=["hidden"])
    head = ProbabilisticActor(
        TensorDictModule(nn.Sequential(nn.Linear(features, 2), NormalParamExtractor()),
                         in_keys=["hidden"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": -2.0, "high": 2.0}, return_log_prob=True)
    return ActorValueOperator(trunk, head, ValueOperator(nn.Linear(features, 1),
                                                         in_keys=["hidden"]))


# --- exercise 1: GAE by hand --------------------------------------------------------------


def test_gae_by_hand_unanswered_is_not_done():
    assert ex.check_gae_by_hand(None).status == "not done yet"
    assert ex.check_gae_by_hand(lambda td, gamma, lmbda: None).status == "not done yet"


def test_gae_by_hand_solution_passes(sol):
    feedback = ex.check_gae_by_hand(sol.solve_gae_by_hand)
    assert feedback.passed, feedback


def test_gae_by_hand_truth_is_torchrls_gae_module():
    # The checker's truth (the functional GAE) is what the GAE module writes, given values.
    td = ex.stretch(12, seed=1, terminated_at=(4,), truncated_at=(8,))
    module = GAE(gamma=0.9, lmbda=0.95, value_network=None)
    written = module(td.clone())["advantage"]
    assert torch.allclose(written, ex._truth(td, 0.9, 0.95), atol=1e-6)


def _gae_variant(*, bootstrap="terminated", reset="done", one_step=False):
    def gae_by_hand(td, gamma, lmbda):
        return ex._gae(td, gamma, lmbda, bootstrap=bootstrap, reset=reset, one_step=one_step)

    return gae_by_hand


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (_gae_variant(one_step=True), "one-step TD errors"),
        (_gae_variant(bootstrap=None), "no future"),
        (_gae_variant(bootstrap="done"), "'done' where 'terminated'"),
        (_gae_variant(reset=None), "crosses an episode end"),
        (_gae_variant(reset="terminated"), "time-limit cut"),
        (lambda td, gamma, lmbda: ex._gae(td, gamma, 1 - lmbda), "γ(1 - λ)"),
        (lambda td, gamma, lmbda: td["next", "reward"], "expected"),
        (lambda td, gamma, lmbda: torch.zeros(2), "2 numbers"),
        (42, "not a function"),
    ],
)
def test_gae_by_hand_mistake_fails_with_a_reason(answer, expected):
    feedback = ex.check_gae_by_hand(answer)
    assert feedback.status == "wrong"
    assert expected in str(feedback), feedback


def test_gae_by_hand_nearest_cell_copy_fails():
    # The loop's `advantage(batch)`, adapted: a GAE module with a value network recomputes
    # the values from observations the stretch does not have, instead of using its values.
    value = ValueOperator(nn.Linear(3, 1), in_keys=["observation"])

    def gae_by_hand(td, gamma, lmbda):
        return GAE(gamma=gamma, lmbda=lmbda, value_network=value)(td)["advantage"]

    feedback = ex.check_gae_by_hand(gae_by_hand)
    assert feedback.status == "wrong"


def test_gae_functional_matches_by_hand_on_the_lesson_stretch(sol):
    td = ex.five_steps()
    adv, _ = generalized_advantage_estimate(0.9, 0.95, td["state_value"],
                                            td["next", "state_value"], td["next", "reward"],
                                            td["next", "done"], td["next", "terminated"])
    assert torch.allclose(sol.solve_gae_by_hand(td, 0.9, 0.95), adv, atol=1e-6)


# --- exercise 2: separate trunks ----------------------------------------------------------


@pytest.fixture(scope="module")
def env():
    return make_env("Pendulum-v1", seed=0)


def test_separate_agent_unanswered_is_not_done(env, sol):
    assert ex.check_separate_agent(None, None, env=env).status == "not done yet"
    agent, _ = sol.solve_separate_agent(env)
    assert ex.check_separate_agent(agent, None, env=env).status == "not done yet"


def test_separate_agent_solution_passes(env, sol):
    agent, prediction = sol.solve_separate_agent(env)
    feedback = ex.check_separate_agent(agent, prediction, env=env)
    assert feedback.passed, feedback


def test_separate_agent_mistake_wrapping_the_shared_halves_fails(env):
    # ActorCriticWrapper around the lesson's two operators: the trunk is still shared.
    agent = shared_agent(env.action_spec)
    wrapped = ActorCriticWrapper(agent.get_policy_operator(), agent.get_value_operator())
    feedback = ex.check_separate_agent(wrapped, False, env=env)
    assert feedback.status == "wrong" and "shared trunk" in str(feedback), feedback


def test_separate_agent_mistake_wrong_prediction_fails(env, sol):
    agent, _ = sol.solve_separate_agent(env)
    feedback = ex.check_separate_agent(agent, True, env=env)
    assert feedback.status == "wrong" and "you predicted" in str(feedback), feedback


def test_separate_agent_mistake_without_log_prob_fails(env, sol):
    agent, _ = sol.solve_separate_agent(env)
    actor = agent.get_policy_operator()
    agent = ActorCriticWrapper(
        ProbabilisticActor(actor.module[0], in_keys=["loc", "scale"], spec=env.action_spec,
                           distribution_class=TanhNormal,
                           distribution_kwargs={"low": -2.0, "high": 2.0}),
        agent.get_value_operator())
    feedback = ex.check_separate_agent(agent, False, env=env)
    assert feedback.status == "wrong" and "action_log_prob" in str(feedback), feedback


def test_separate_agent_nearest_cell_copy_fails(env):
    # The lesson's agent cell with its numbers changed is still one shared trunk.
    feedback = ex.check_separate_agent(shared_agent(env.action_spec, features=32), False,
                                       env=env)
    assert feedback.status == "wrong" and "share" in str(feedback), feedback


def test_a_critic_step_moves_the_shared_agents_action_only(env, sol):
    separate, _ = sol.solve_separate_agent(env)
    assert ex.critic_step_action_change(separate, env) == 0.0
    assert ex.critic_step_action_change(shared_agent(env.action_spec), env) > 1e-3


# --- exercise 3: the ratio ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ppo():
    """A ClipPPOLoss whose policy has moved since it collected ``batch``."""
    env = make_env("Pendulum-v1", seed=0)
    agent = shared_agent(env.action_spec)
    policy, value = agent.get_policy_operator(), agent.get_value_operator()
    collector = Collector(env, policy, frames_per_batch=256, total_frames=256,
                          auto_register_policy_transforms=False)
    batch = next(iter(collector))
    collector.shutdown()
    with torch.no_grad():
        GAE(gamma=0.9, lmbda=0.95, value_network=value)(batch)
    loss_fn = ClipPPOLoss(policy, value, entropy_bonus=False, normalize_advantage=True)
    optimizer = torch.optim.Adam(loss_fn.parameters(), lr=1e-2)
    for _ in range(10):
        losses = loss_fn(batch.clone())
        optimizer.zero_grad()
        (losses["loss_objective"] + losses["loss_critic"]).backward()
        optimizer.step()
    return loss_fn, batch, policy


def test_ratios_unanswered_is_not_done(ppo):
    loss_fn, batch, _ = ppo
    assert ex.check_ratios(None, loss_fn, batch).status == "not done yet"
    assert ex.check_ratios(lambda td: None, loss_fn, batch).status == "not done yet"


def test_ratios_solution_passes(ppo, sol):
    loss_fn, batch, policy = ppo
    feedback = ex.check_ratios(sol.solve_ratios(policy), loss_fn, batch)
    assert feedback.passed, feedback
    assert ex.clip_fraction(policy, loss_fn.critic_network, batch, 0.1) > 0  # it moved


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda r: (lambda td: r(td).log()), "log-ratios"),
        (lambda r: (lambda td: 1 / r(td)), "upside down"),
        (lambda r: (lambda td: (td["action_log_prob"] - td["action_log_prob"]).exp()),
         "every ratio is 1"),
        (lambda r: (lambda td: r(td)[:10]), "10 numbers"),
        (lambda r: 3, "not a function"),
    ],
)
def test_ratios_mistake_fails_with_a_reason(ppo, sol, make, expected):
    loss_fn, batch, policy = ppo
    feedback = ex.check_ratios(make(sol.solve_ratios(policy)), loss_fn, batch)
    assert feedback.status == "wrong"
    assert expected in str(feedback), feedback


def test_ratios_nearest_cell_copy_fails(ppo):
    # What the cells above do with a policy: run it. Its log-prob is that of a fresh action
    # (here the greedy one), not of the action the collector took.
    loss_fn, batch, policy = ppo

    def ratios(td):
        with torch.no_grad():
            return (policy(td.clone())["action_log_prob"] - td["action_log_prob"]).exp()

    feedback = ex.check_ratios(ratios, loss_fn, batch)
    assert feedback.status == "wrong" and "differ" in str(feedback), feedback


def test_checks_leave_the_global_rng_alone(ppo, sol, env):
    loss_fn, batch, policy = ppo
    agent, prediction = sol.solve_separate_agent(env)
    state = torch.get_rng_state()
    ex.check_ratios(sol.solve_ratios(policy), loss_fn, batch)
    ex.check_separate_agent(agent, prediction, env=env)
    ex.check_gae_by_hand(sol.solve_gae_by_hand)
    assert torch.equal(state, torch.get_rng_state())
