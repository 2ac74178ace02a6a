"""The numbers a rollout's summary shows, and the rows they are shown in (no HTML here).

:func:`rollout_stats` counts what happened in a rollout: rewards, episodes ended, and how
many actions were explored, sampled, or differ from the deterministic action.
:func:`summary_rows` picks the rows worth showing for a policy (a sampling policy gets its
samples counted apart from an exploration module's replacements). The explorer renders
the rows as its summary table; a test or a script reads the numbers directly.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> td = TensorDict({"action": torch.zeros(4, 1), "next": {
    ...     "reward": torch.ones(4, 1), "done": torch.tensor([[False]] * 3 + [[True]])}},
    ...     batch_size=[4])
    >>> stats = rollout_stats(td, torch.tensor([True, False, False, False]))
    >>> stats["total_reward"], stats["explored_fraction"], stats["episodes_ended"]
    (4.0, 0.25, 1)
"""

from __future__ import annotations

from typing import Any

import torch

from rltutor._exploration import PolicyProfile
from rltutor._greedy import action_leaves

__all__ = ["rollout_stats", "summary_rows"]


def rollout_stats(
    td: Any,
    explored: torch.Tensor,
    *,
    differs: torch.Tensor | None = None,
    sampled: bool = False,
) -> dict[str, Any]:
    """What happened in the rollout ``td``, as numbers.

    Over every env of a batch: rewards add up, episodes ended are counted in each env.

    Args:
        td: a rollout (``[T]`` or ``[envs, T]``) with ``("next", "reward")`` and
            ``("next", "done")``.
        explored: a bool per step: an exploration module (or ``RandomPolicy``) made
            the action.
        differs: a bool per step: the action is not the deterministic one, for whatever
            reason (default: ``explored``).
        sampled: every action was drawn from a distribution (a probabilistic policy
            under the ``"random"`` exploration type).

    Returns:
        ``total_reward``, ``explored_fraction``, ``sampled_fraction``,
        ``differs_fraction``, the counts ``explored``, ``differs`` and ``actions``,
        ``action_device``, ``steps``, ``episodes_ended``, ``num_envs`` and
        ``reward_per_env``.
    """
    differs = explored if differs is None else differs
    reward = td["next", "reward"]
    num_envs = int(td.shape[:-1].numel())
    per_env = reward.reshape(num_envs, -1).sum(-1)
    return {
        "total_reward": float(reward.sum()),
        "explored_fraction": float(explored.float().mean()),
        "sampled_fraction": float(bool(sampled)),
        "differs_fraction": float(differs.float().mean()),
        "explored": int(explored.sum()),
        "differs": int(differs.sum()),
        "actions": int(explored.numel()),
        "action_device": str(action_leaves(td["action"])[0][1].device),
        "steps": int(td.shape[-1]),
        "episodes_ended": int(td["next", "done"].sum()),
        "num_envs": num_envs,
        "reward_per_env": [round(float(r), 4) for r in per_env],
    }


def _share(part: int, count: int) -> str:
    return f"{part / max(count, 1):.0%} ({part} of {count})"


def summary_rows(stats: dict[str, Any], profile: PolicyProfile) -> list[tuple[str, str]]:
    """The ``(label, value)`` rows of a rollout's summary, for a policy like ``profile``'s.

    A sampling policy gets "sampled" and "≠ deterministic"; a module that replaces or
    perturbs actions gets "replaced by an exploration module" (for ``RandomPolicy``:
    "drawn by RandomPolicy"); a batch of envs gets its total and the spread per env.

    Args:
        stats: :func:`rollout_stats`' numbers.
        profile: the policy's :class:`~rltutor._exploration.PolicyProfile`.

    >>> from rltutor._exploration import PolicyProfile
    >>> stats = {"total_reward": 3.0, "explored": 1, "differs": 1, "actions": 4,
    ...          "sampled_fraction": 0.0, "action_device": "cpu", "episodes_ended": 0,
    ...          "num_envs": 1, "reward_per_env": [3.0]}
    >>> summary_rows(stats, PolicyProfile())[1]
    ('replaced by an exploration module', '25% (1 of 4)')
    """
    count = stats["actions"]
    rows = [("total reward", f"{stats['total_reward']:.2f}")]
    if profile.samples:  # what a sampling policy does, counted apart from the modules
        rows.append(("sampled", _share(count if stats["sampled_fraction"] else 0, count)))
        rows.append(("≠ deterministic", _share(stats["differs"], count)))
    if profile.random_policy:
        rows.append(("drawn by RandomPolicy", _share(stats["explored"], count)))
    elif profile.replaces or not profile.samples:
        rows.append(("replaced by an exploration module", _share(stats["explored"], count)))
    rows += [("action device", stats["action_device"]),
             ("episodes ended", str(stats["episodes_ended"]))]
    if stats["num_envs"] > 1:
        per_env = stats["reward_per_env"]
        rows[0] = (f"total reward ({stats['num_envs']} envs)", f"{stats['total_reward']:.2f}")
        rows.insert(1, ("per env", f"{min(per_env):.1f} … {max(per_env):.1f}"))
    return rows
