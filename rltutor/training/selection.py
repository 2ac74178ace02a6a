"""Honest numbers for a training run: the registry's threshold, selection and held-out episodes.

A training loop that keeps "the best checkpoint" must pick it on some episodes and report
it on others, or the report flatters the policy: the best of many noisy evaluations is
high partly by luck. :class:`BestCheckpoint` picks on *selection* episodes (seeds from
1,000), :func:`held_out` reports on *held-out* ones (seeds from 10,000) that the choice
never saw.

>>> reward_threshold("CartPole-v1"), reward_threshold("Pendulum-v1")
(475.0, None)
"""

from __future__ import annotations

import copy
import statistics
from dataclasses import dataclass
from typing import Any

import torch

from rltutor.training.evaluate import episode_returns
from rltutor.validation import check_seed

__all__ = ["BestCheckpoint", "HeldOut", "held_out", "reward_threshold"]

SELECTION_SEED = 1_000
HELD_OUT_SEED = 10_000


def reward_threshold(env_name: str) -> float | None:
    """The return at which gymnasium's registry calls ``env_name`` solved, or ``None``.

    Args:
        env_name: a registered gymnasium id such as ``"CartPole-v1"``.

    >>> reward_threshold("CartPole-v0")  # the old 195 belongs to v0, not v1
    195.0
    """
    import gymnasium

    try:
        spec = gymnasium.spec(env_name)
    except Exception as error:  # gymnasium raises several kinds for an unknown id
        raise ValueError(
            f"{env_name!r} is not a registered gymnasium environment ({error}); "
            "use an id such as 'CartPole-v1' or 'Pendulum-v1'"
        ) from None
    threshold = spec.reward_threshold
    return None if threshold is None else float(threshold)


@dataclass(frozen=True)
class HeldOut:
    """Greedy returns on episodes that no choice was made on.

    Args:
        returns: one summed reward per episode.

    >>> print(HeldOut((-150.0, -250.0)))
    mean -200.0 over 2 held-out episodes (min -250.0, max -150.0)
    """

    returns: tuple[float, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.returns)

    @property
    def min(self) -> float:
        return min(self.returns)

    @property
    def max(self) -> float:
        return max(self.returns)

    def __str__(self) -> str:
        return (f"mean {self.mean:.1f} over {len(self.returns)} held-out episodes "
                f"(min {self.min:.1f}, max {self.max:.1f})")


def held_out(
    env: Any,
    policy: Any,
    *,
    episodes: int = 20,
    seed: int = HELD_OUT_SEED,
    max_steps: int = 1000,
) -> HeldOut:
    """Greedy returns of ``policy`` on held-out episodes (seeds ``seed``, ``seed + 1``, ...).

    Args:
        env: a TorchRL environment the training loop does not step.
        policy: a TensorDict module that writes ``"action"``.
        episodes: how many episodes, >= 1 (report at least 20).
        seed: the first episode's seed; keep it far from the selection seeds.
        max_steps: the longest episode.

    >>> import torch
    >>> from rltutor.envs import make_env
    >>> push_left = lambda td: td.set("action", torch.tensor([1, 0]))
    >>> held_out(make_env("CartPole-v1"), push_left, episodes=3).min > 0
    True
    """
    return HeldOut(tuple(episode_returns(env, policy, episodes=episodes, seed=seed,
                                         max_steps=max_steps)))


class BestCheckpoint:
    """Keeps the weights that did best on greedy *selection* episodes during training.

    Call :meth:`consider` at each evaluation point of a loop; it evaluates the policy on
    the same ``episodes`` selection episodes every time and keeps a copy of the
    ``state_dict`` when the mean beats the best so far. :meth:`load_best` puts the best
    weights back. Report the result with :func:`held_out`, on other episodes.

    Args:
        policy: the module being trained (its ``state_dict`` is copied).
        env: an environment for evaluation only, not the one the collector steps.
        episodes: selection episodes per evaluation, >= 1.
        seed: the first selection episode's seed.
        max_steps: the longest episode.

    >>> import torch
    >>> from rltutor.envs import make_env
    >>> from tensordict.nn import TensorDictModule
    >>> from rltutor.policies import make_qvalue_policy
    >>> env = make_env("CartPole-v1", seed=0)
    >>> policy = make_qvalue_policy(env)
    >>> best = BestCheckpoint(policy, env=make_env("CartPole-v1"), episodes=2)
    >>> score = best.consider(frames=0)
    >>> best.best_frames, best.best_return == score, len(best.history)
    (0, True, 1)
    """

    def __init__(
        self,
        policy: torch.nn.Module,
        *,
        env: Any,
        episodes: int = 5,
        seed: int = SELECTION_SEED,
        max_steps: int = 1000,
    ) -> None:
        if not isinstance(policy, torch.nn.Module):
            raise TypeError(f"policy must be a torch.nn.Module (it has weights to keep), "
                            f"got {type(policy).__name__}")
        self.policy, self.env = policy, env
        self.episodes, self.seed, self.max_steps = episodes, check_seed(seed), max_steps
        self.best_return = float("-inf")
        self.best_frames: int | None = None
        self.history: list[tuple[int, float]] = []
        self._state: dict[str, Any] | None = None

    def consider(self, *, frames: int) -> float:
        """Evaluate the policy now on the selection episodes; keep its weights if best.

        Args:
            frames: how many frames the loop has collected so far (for the history).

        Returns:
            The mean greedy return on the selection episodes.
        """
        returns = episode_returns(self.env, self.policy, episodes=self.episodes,
                                  seed=self.seed, max_steps=self.max_steps)
        score = statistics.fmean(returns)
        self.history.append((int(frames), score))
        if score > self.best_return:
            self.best_return, self.best_frames = score, int(frames)
            self._state = copy.deepcopy(self.policy.state_dict())
        return score

    def load_best(self) -> torch.nn.Module:
        """Load the best weights seen into the policy, and return the policy.

        Raises:
            RuntimeError: when :meth:`consider` was never called.
        """
        if self._state is None:
            raise RuntimeError("no checkpoint yet: call .consider(frames=...) during training "
                               "before .load_best()")
        self.policy.load_state_dict(self._state)
        return self.policy
