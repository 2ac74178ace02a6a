"""The bands an action panel draws, as numpy arrays: pure code, no matplotlib.

A continuous part's band is its ``(low, high)`` per step (the 5 % and 95 % points of
the distribution or of the noise); a discrete part's is the probability of each choice
per step, drawn as a ribbon on each choice's row whose height is that probability.

    >>> probs = np.array([[[0.25, 0.75]]])  # one env, one step, two choices
    >>> [v.tolist() for v in ribbon_polygons(np.arange(1), probs[0])]
    [[[0.0, -0.1], [0.0, 0.1]], [[0.0, 0.7], [0.0, 1.3]]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rltutor.plots._series import ActionSeries

__all__ = ["PartBand", "band_series", "ribbon_polygons"]

RIBBON_HEIGHT = 0.8  # a probability of 1 fills this much of the gap between two rows


@dataclass
class PartBand:
    """One action part's band: ``low``/``high`` ``(envs, T, A)`` for a continuous part,
    ``probs`` ``(envs, T, n)`` for a discrete one."""

    low: np.ndarray | None = None
    high: np.ndarray | None = None
    probs: np.ndarray | None = None


def _array(x: Any) -> np.ndarray:
    return np.asarray(torch.as_tensor(x).detach().cpu().float())


def band_series(band: Any, parts: list[ActionSeries], num_envs: int) -> list[PartBand | None]:
    """One :class:`PartBand` (or None) per action part, arrays with a leading env dim.

    ``band`` is None, ``(low, high)`` for the first part, or a dict by part name of
    ``(low, high)`` (continuous part) or probabilities ``(..., n)`` (discrete part).

    Args:
        band: the bands as the caller gave them.
        parts: the rollout's action parts (:attr:`RolloutSeries.actions`).
        num_envs: envs in the rollout (1 for an unbatched one).

    >>> from rltutor.plots._series import ActionSeries
    >>> part = ActionSeries("action", np.zeros((3, 1)), False, None, None, None)
    >>> band_series((np.zeros((3, 1)), np.ones((3, 1))), [part], 1)[0].high.shape
    (1, 3, 1)
    """
    if band is None:
        return [None] * len(parts)
    if not isinstance(band, dict):
        band = {parts[0].name: band}
    out: list[PartBand | None] = []
    for part in parts:
        given = band.get(part.name)
        steps = part.values.shape[-2 if not part.discrete else -1]
        if given is None:
            out.append(None)
        elif part.discrete:
            probs = _array(given).reshape(num_envs, steps, -1)
            n = max(part.num_actions or 0, probs.shape[-1])
            if probs.shape[-1] < n:  # choices never sampled: probability about 0
                probs = np.concatenate([probs, np.zeros((*probs.shape[:-1], n - probs.shape[-1]))],
                                       -1)
            out.append(PartBand(probs=probs))
        else:
            low, high = (_array(edge).reshape(num_envs, steps, -1) for edge in given)
            out.append(PartBand(low=low, high=high))
    return out


def ribbon_polygons(steps: np.ndarray, probs: np.ndarray) -> list[np.ndarray]:
    """One closed outline per choice: on row ``k``, ``k ± RIBBON_HEIGHT * p / 2``.

    Args:
        steps: ``(T,)`` the x of each step.
        probs: ``(T, n)`` the probability of each choice at each step.
    """
    polygons = []
    for k in range(probs.shape[-1]):
        half = RIBBON_HEIGHT * probs[:, k] / 2
        xs = np.concatenate([steps, steps[::-1]]).astype(float)
        ys = np.concatenate([k - half, (k + half)[::-1]])
        polygons.append(np.column_stack([xs, ys]))
    return polygons
