"""Episodes side by side in a vectorized twin are the episodes one env runs in turn."""

from __future__ import annotations

import sys

import pytest
import torch
from torchrl.envs import GymEnv, StepCounter, TransformedEnv

import rltutor
from rltutor.training import episode_returns, side_by_side
from rltutor.training.side_by_side import twin_of


def _one_at_a_time(env, policy, **kwargs) -> list[float]:
    # a plain callable gets no twin: the episodes run one after the other in env itself
    return episode_returns(env, lambda td: policy(td), **kwargs)


def test_cartpole_episodes_side_by_side_are_the_ones_run_in_turn():
    env = rltutor.make_env("CartPole-v1", seed=0)
    torch.manual_seed(3)
    policy = rltutor.make_qvalue_policy(env)
    twin = episode_returns(env, policy, episodes=7, seed=1000)
    assert twin == _one_at_a_time(env, policy, episodes=7, seed=1000)
    assert len(set(twin)) > 2  # different starts, different episodes


def test_pendulum_returns_agree_up_to_batched_rounding():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    policy = rltutor.make_actor(env, num_cells=(64, 64), seed=0)
    twin = episode_returns(env, policy, episodes=6, seed=10_000)
    alone = _one_at_a_time(env, policy, episodes=6, seed=10_000)
    assert twin == pytest.approx(alone, abs=1e-3)
    assert twin != pytest.approx([twin[0]] * 6, abs=1.0)


def test_more_episodes_than_copies_run_in_passes(monkeypatch):
    # (the package's name `evaluate` is the function; its module is in sys.modules)
    monkeypatch.setattr(sys.modules["rltutor.training.evaluate"], "MAX_SIDE_BY_SIDE", 3)
    env = rltutor.make_env("CartPole-v1", seed=0)
    torch.manual_seed(1)
    policy = rltutor.make_qvalue_policy(env)
    returns = episode_returns(env, policy, episodes=7, seed=5)
    assert twin_of(env, 3) is twin_of(env, 3)  # one twin per env and size, reused
    assert returns == _one_at_a_time(env, policy, episodes=7, seed=5)


def test_max_steps_cuts_every_episode_alike():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    policy = rltutor.make_actor(env, num_cells=(32,), seed=0)
    short = episode_returns(env, policy, episodes=3, seed=0, max_steps=7)
    assert short == pytest.approx(_one_at_a_time(env, policy, episodes=3, seed=0,
                                                  max_steps=7), abs=1e-4)


def test_only_a_plain_gym_env_gets_a_twin():
    plain = rltutor.make_env("CartPole-v1", seed=0)
    assert twin_of(plain, 4).batch_size == torch.Size([4])
    assert twin_of(plain, 1) is None
    assert twin_of(TransformedEnv(plain, StepCounter()), 4) is None  # a transform may not batch
    assert twin_of(GymEnv("CartPole-v1", render_mode="rgb_array"), 4) is None


def test_a_policy_whose_action_does_not_fit_a_batch_runs_its_episodes_in_turn():
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.data import Categorical
    from torchrl.modules import MLP, QValueModule

    env = rltutor.make_env("CartPole-v1", seed=0)
    torch.manual_seed(0)
    # lesson 15's bug 3: a spec written by hand, one integer action, not one-hot per env
    policy = TensorDictSequential(
        TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[16]),
                         in_keys=["observation"], out_keys=["action_value"]),
        QValueModule(spec=Categorical(2)))
    with pytest.raises(side_by_side.NotSideBySide, match="action of shape"):
        side_by_side.side_by_side_returns(twin_of(env, 3), policy, episodes=3, seed=0,
                                          max_steps=5)
    assert episode_returns(env, policy, episodes=3, seed=0) == _one_at_a_time(
        env, policy, episodes=3, seed=0)


def test_the_twin_keeps_torchrls_frame_skip_and_action_encoding():
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.modules import MLP, QValueModule

    env = GymEnv("CartPole-v1", frame_skip=3, categorical_action_encoding=True)
    env.set_seed(0)
    torch.manual_seed(2)
    policy = TensorDictSequential(
        TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[16]),
                         in_keys=["observation"], out_keys=["action_value"]),
        QValueModule(spec=env.action_spec))  # an index action, as the env was told
    twin = twin_of(env, 4)
    assert twin.frame_skip == 3 and twin.action_spec.shape == torch.Size([4])
    assert episode_returns(env, policy, episodes=4, seed=7) == _one_at_a_time(
        env, policy, episodes=4, seed=7)
