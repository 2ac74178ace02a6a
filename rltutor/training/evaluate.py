"""Greedy evaluation of a policy: the mean return over a few seeded episodes.

Used by lesson 11 to judge a policy while it trains, and to keep the best checkpoint.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch

from rltutor.training.side_by_side import (
    MAX_SIDE_BY_SIDE,
    NotSideBySide,
    side_by_side_returns,
    twin_of,
)
from rltutor.validation import check_seed

__all__ = ["episode_returns", "evaluate"]


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def evaluate(
    env: Any,
    policy: Any,
    *,
    episodes: int = 5,
    seed: int = 0,
    max_steps: int = 1000,
) -> float:
    """Mean return of ``policy`` over ``episodes`` episodes of ``env``, acting greedily.

    Episode ``i`` starts from ``env.set_seed(seed + i)``, so the same policy always gets
    the same number, whatever ran in ``env`` before. The policy acts under
    ``ExplorationType.DETERMINISTIC`` (an ``EGreedyModule`` stands aside, a distribution
    gives its mode or mean) and without gradients. An episode stops at the first done
    or after ``max_steps`` steps (CartPole-v1 ends itself at 500).

    Args:
        env: a TorchRL environment with one batch dimension at most (e.g. a ``GymEnv``).
            Use an environment the training loop does not step: seeding it here would
            reset the episode the loop is in.
        policy: a TensorDict module (or callable) that writes ``"action"``.
        episodes: how many episodes to average, >= 1.
        seed: the seed of the first episode, >= 0; later episodes use ``seed + 1``, ...
        max_steps: the longest episode, >= 1.

    Returns:
        The mean of the episodes' summed rewards, a Python float.

    >>> from rltutor.envs import make_env
    >>> env = make_env("CartPole-v1", seed=0)
    >>> import torch
    >>> push_left = lambda td: td.set("action", torch.tensor([1, 0]))  # one-hot "left"
    >>> evaluate(env, push_left, episodes=5, seed=0)  # the pole falls after ~9 steps
    9.4
    """
    returns = episode_returns(env, policy, episodes=episodes, seed=seed, max_steps=max_steps)
    return sum(returns) / len(returns)


def episode_returns(
    env: Any,
    policy: Any,
    *,
    episodes: int = 20,
    seed: int = 0,
    max_steps: int = 1000,
) -> list[float]:
    """The greedy return of each of ``episodes`` seeded episodes (what :func:`evaluate` averages).

    For a plain ``GymEnv`` and a policy that is a module, the episodes run side by side in
    a vectorized twin of ``env`` (:mod:`rltutor.training.side_by_side`): the same episodes,
    several times faster; ``env`` itself is then left as it was.

    Args:
        env: a TorchRL environment with one batch dimension at most, not stepped by a loop.
        policy: a TensorDict module (or callable) that writes ``"action"``.
        episodes: how many episodes, >= 1.
        seed: the seed of the first episode, >= 0; later episodes use ``seed + 1``, ...
        max_steps: the longest episode, >= 1.

    >>> from rltutor.envs import make_env
    >>> import torch
    >>> push_left = lambda td: td.set("action", torch.tensor([1, 0]))
    >>> len(episode_returns(make_env("CartPole-v1"), push_left, episodes=3))
    3
    """
    from torchrl.envs.utils import ExplorationType, set_exploration_type

    episodes = _check_count(episodes, "episodes")
    max_steps = _check_count(max_steps, "max_steps")
    seed = check_seed(seed)
    if not callable(policy):
        raise TypeError(
            f"policy must be a TensorDict module or a callable taking a TensorDict, "
            f"got {type(policy).__name__}"
        )
    # a plain GymEnv and a module policy: the episodes run side by side in the env's twin
    twin = (twin_of(env, min(episodes, MAX_SIDE_BY_SIDE))
            if isinstance(policy, torch.nn.Module) else None)
    returns = []
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        if twin is not None:
            try:
                return side_by_side_returns(twin, policy, episodes=episodes, seed=seed,
                                            max_steps=max_steps)
            except NotSideBySide:  # checked before the first step: env is untouched
                pass
        for episode in range(episodes):
            env.set_seed(seed + episode)
            td = env.rollout(max_steps, policy, break_when_any_done=True)
            returns.append(float(td["next", "reward"].sum()))
    return returns
