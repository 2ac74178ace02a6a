"""Selection episodes pick the checkpoint, held-out ones report it (training/selection.py)."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule

import rltutor
from rltutor.training import BestCheckpoint, HeldOut, episode_returns, held_out, reward_threshold


class Lean(torch.nn.Module):
    """A CartPole policy that pushes toward where the pole leans: weight 0 never balances."""

    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.tensor(gain))

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        right = (self.gain * observation[..., 2] > 0).long()
        return torch.nn.functional.one_hot(right, 2)


def _policy(gain: float) -> TensorDictModule:
    return TensorDictModule(Lean(gain), in_keys=["observation"], out_keys=["action"])


def test_threshold_comes_from_the_registry():
    assert reward_threshold("CartPole-v1") == 475.0
    assert reward_threshold("Pendulum-v1") is None


def test_unknown_env_names_what_is_accepted():
    with pytest.raises(ValueError, match="not a registered gymnasium environment"):
        reward_threshold("CartPole-v9")


def test_best_checkpoint_keeps_the_best_weights_not_the_last():
    policy = _policy(1.0)
    best = BestCheckpoint(policy, env=rltutor.make_env("CartPole-v1"), episodes=2, max_steps=200)
    good = best.consider(frames=100)
    with torch.no_grad():
        policy.module.gain.fill_(-1.0)  # now it pushes the wrong way and falls at once
    bad = best.consider(frames=200)
    assert good > bad and best.best_frames == 100 and best.best_return == good
    assert [f for f, _ in best.history] == [100, 200]
    best.load_best()
    assert float(policy.module.gain) == 1.0


def test_load_best_before_any_evaluation_says_what_to_do():
    best = BestCheckpoint(_policy(1.0), env=rltutor.make_env("CartPole-v1"))
    with pytest.raises(RuntimeError, match="consider"):
        best.load_best()


def test_held_out_uses_other_episodes_than_selection():
    env = rltutor.make_env("CartPole-v1")
    policy = _policy(1.0)
    report = held_out(env, policy, episodes=3, max_steps=60)
    assert isinstance(report, HeldOut) and len(report.returns) == 3
    assert report.min <= report.mean <= report.max
    assert list(report.returns) == episode_returns(env, policy, episodes=3, seed=10_000,
                                                   max_steps=60)
    assert "held-out" in str(report)


def test_plot_learning_curves_rejects_a_ragged_run():
    with pytest.raises(ValueError, match="per-seed lists of 3 returns"):
        rltutor.plot_learning_curves({"PPO": [[1, 2]]}, frames=[0, 1, 2])
