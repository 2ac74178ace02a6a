"""rltutor.policies: every builder sizes itself from the specs, rolls out, writes its keys."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import GymEnv, InitTracker, TransformedEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import (
    Actor,
    AdditiveGaussianModule,
    EGreedyModule,
    OrnsteinUhlenbeckProcessModule,
    ProbabilisticActor,
    TanhNormal,
)

from rltutor import policies

STEPS = 5


def _leaves(td) -> set:
    return set(td.keys(True, True))


def _rollout(env, policy, exploration=ExplorationType.DETERMINISTIC):
    env.set_seed(0)
    with set_exploration_type(exploration):
        return env.rollout(STEPS, policy, break_when_any_done=False)


def test_deterministic_policy(pendulum):
    policy = policies.make_deterministic_policy(pendulum)
    assert isinstance(policy, TensorDictModule)
    assert policy.in_keys == ["observation"] and policy.out_keys == ["action"]
    assert policy.module.weight.shape == (1, 3)  # sized from the specs, not lazily
    td = _rollout(pendulum, policy)
    assert td.batch_size == (STEPS,)
    assert td["action"].shape == (STEPS, 1)


def test_actor_uses_num_cells_and_activation(pendulum):
    policy = policies.make_actor(pendulum, num_cells=(8, 16), activation=nn.ReLU)
    assert isinstance(policy, Actor)
    widths = [m.out_features for m in policy.modules() if isinstance(m, nn.Linear)]
    assert widths == [8, 16, 1]
    assert any(isinstance(m, nn.ReLU) for m in policy.modules())
    assert policy.spec["action"] is not None
    td = _rollout(pendulum, policy)
    assert td["action"].shape == (STEPS, 1)


def test_actor_accepts_a_single_width(pendulum):
    policy = policies.make_actor(pendulum, num_cells=32)
    widths = [m.out_features for m in policy.modules() if isinstance(m, nn.Linear)]
    assert widths == [32, 1]


@pytest.mark.parametrize("bounded", [True, False])
def test_gaussian_actor_keys_and_bounds(pendulum, bounded):
    actor = policies.make_gaussian_actor(pendulum, bounded=bounded, num_cells=(16,))
    assert isinstance(actor, ProbabilisticActor)
    assert actor.out_keys == ["loc", "scale", "action", "action_log_prob"]
    td = _rollout(pendulum, actor, ExplorationType.RANDOM)
    assert {"loc", "scale", "action", "action_log_prob"} <= _leaves(td)
    assert "sample_log_prob" not in _leaves(td)
    assert bool((td["scale"] > 0).all())
    dist = actor.get_dist(td[0])
    assert isinstance(dist, TanhNormal) == bounded


def test_bounded_gaussian_samples_stay_in_the_spec(pendulum):
    actor = policies.make_gaussian_actor(pendulum, bounded=True)
    td = pendulum.reset().expand(2000).clone()
    with set_exploration_type(ExplorationType.RANDOM), torch.no_grad():
        action = actor(td)["action"]
    assert float(action.abs().max()) <= 2.0
    assert float(action.std()) > 0.05


def test_categorical_actor_one_hot(cartpole):
    actor = policies.make_categorical_actor(cartpole)
    assert actor.out_keys == ["logits", "action", "action_log_prob"]
    td = _rollout(cartpole, actor, ExplorationType.RANDOM)
    assert td["logits"].shape == (STEPS, 2)
    assert td["action"].shape == (STEPS, 2)
    assert bool((td["action"].sum(-1) == 1).all())


def test_qvalue_policy_keys(cartpole):
    policy = policies.make_qvalue_policy(cartpole)
    assert isinstance(policy, TensorDictSequential)
    assert policy.out_keys == ["action", "action_value", "chosen_action_value"]
    td = _rollout(cartpole, policy)
    assert td["action_value"].shape == (STEPS, 2)
    chosen = td["action_value"].argmax(-1)
    assert torch.equal(td["action"].argmax(-1), chosen)  # the action is the argmax
    assert torch.allclose(td["chosen_action_value"].squeeze(-1), td["action_value"].amax(-1))


def test_egreedy_wraps_and_explores(cartpole):
    policy = policies.with_egreedy(policies.make_qvalue_policy(cartpole), cartpole, eps=1.0)
    assert isinstance(policy[-1], EGreedyModule)
    assert float(policy[-1].eps) == pytest.approx(1.0)
    assert _rollout(cartpole, policy, ExplorationType.RANDOM)["action"].shape == (STEPS, 2)
    td = cartpole.reset().expand(400).clone()
    torch.manual_seed(0)
    with set_exploration_type(ExplorationType.RANDOM):
        explored = policy(td.clone())
    with set_exploration_type(ExplorationType.DETERMINISTIC):
        greedy = policy(td.clone())
    # eps=1: every action random, so about half differ from the argmax; none when not exploring
    differ = explored["action"].argmax(-1) != explored["action_value"].argmax(-1)
    assert 0.3 < differ.float().mean() < 0.7
    assert torch.equal(greedy["action"].argmax(-1), greedy["action_value"].argmax(-1))


def test_egreedy_anneals_when_given_an_end(cartpole):
    policy = policies.with_egreedy(
        policies.make_qvalue_policy(cartpole), cartpole, eps=1.0, eps_end=0.1,
        annealing_num_steps=10,
    )
    policy[-1].step(10)
    assert float(policy[-1].eps) == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan"), "0.5", True])
def test_bad_epsilon_is_rejected(cartpole, eps):
    with pytest.raises(ValueError, match=r"epsilon must be a number in \[0, 1\]"):
        policies.with_egreedy(policies.make_qvalue_policy(cartpole), cartpole, eps=eps)


def test_bad_epsilon_end_is_rejected(cartpole):
    with pytest.raises(ValueError, match="epsilon"):
        policies.with_egreedy(policies.make_qvalue_policy(cartpole), cartpole, eps_end=2.0)


def test_gaussian_noise(pendulum):
    policy = policies.with_gaussian_noise(policies.make_actor(pendulum), pendulum, sigma=0.5)
    assert isinstance(policy[-1], AdditiveGaussianModule)
    clean = _rollout(pendulum, policies.make_actor(pendulum))
    torch.manual_seed(0)
    noisy = _rollout(pendulum, policy, ExplorationType.RANDOM)
    assert not torch.allclose(noisy["action"], clean["action"])
    assert float(noisy["action"].detach().abs().max()) <= 2.0  # clipped to the spec


def test_ou_noise_needs_and_uses_is_init(pendulum):
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    policy = policies.with_ou_noise(policies.make_actor(env), env, sigma=0.3, theta=0.2)
    assert isinstance(policy[-1], OrnsteinUhlenbeckProcessModule)
    td = _rollout(env, policy, ExplorationType.RANDOM)
    assert td["action"].shape == (STEPS, 1)
    assert "is_init" in td.keys()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda env, p: policies.with_gaussian_noise(p, env, sigma=-1), "sigma"),
        (lambda env, p: policies.with_ou_noise(p, env, theta=-0.1), "theta"),
    ],
)
def test_negative_noise_is_rejected(pendulum, call, match):
    with pytest.raises(ValueError, match=match):
        call(pendulum, policies.make_actor(pendulum))


@pytest.mark.parametrize(
    "build",
    [
        policies.make_deterministic_policy,
        policies.make_actor,
        policies.make_gaussian_actor,
    ],
)
def test_same_seed_same_weights_and_global_rng_untouched(pendulum, build):
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = build(pendulum, seed=7)
    assert torch.equal(torch.rand(3), expected_next)  # building did not consume the global RNG
    second = build(pendulum, seed=7)
    other = build(pendulum, seed=8)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    assert any(
        not torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters(), strict=True)
    )


def test_same_seed_same_rollout(cartpole):
    a = _rollout(cartpole, policies.make_categorical_actor(cartpole, seed=1))
    b = _rollout(cartpole, policies.make_categorical_actor(cartpole, seed=1))
    assert torch.equal(a["action"], b["action"])
    assert torch.equal(a["logits"], b["logits"])


def test_env_without_observation_key_gets_a_clear_error():
    env = GymEnv("Pendulum-v1", from_pixels=True, pixels_only=True)
    with pytest.raises(ValueError, match="'observation'"):
        policies.make_actor(env)
