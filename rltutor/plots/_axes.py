"""Where things go on the axes: y limits that stay put between redraws, episode-end marks."""

from __future__ import annotations

import numpy as np

__all__ = ["done_xy", "finite_range", "return_so_far", "stable_limits"]

_NAN = float("nan")
# y limits: padding around the data when they are (re)chosen, and how small the data may
# get (as a share of the shown range) before the axis zooms back in.
_PAD = 0.08
_SHRINK_BELOW = 0.5


def done_xy(steps: np.ndarray, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Line2D draws every done mark: vertical segments in axes coordinates.

    Args:
        steps: the step index of each point.
        done: a bool per step: the step ended an episode.

    >>> x, y = done_xy(np.arange(3), np.array([False, True, False]))
    >>> x.tolist()[:2], y.tolist()[:2]
    ([1.0, 1.0], [0.0, 1.0])
    """
    at = steps[done]
    x = np.repeat(at, 3).astype(float)
    y = np.tile([0.0, 1.0, _NAN], at.size)
    x[2::3] = _NAN
    return x, y


def finite_range(*arrays: np.ndarray | None) -> tuple[float, float] | None:
    """(min, max) over the finite values of ``arrays``, or None when there are none.

    Args:
        *arrays: arrays (or None) to look at together.

    >>> finite_range(np.array([1.0, np.nan]), np.array([-2.0]), None)
    (-2.0, 1.0)
    """
    finite = [a[np.isfinite(a)] for a in arrays if a is not None and a.size]
    finite = [a for a in finite if a.size]
    if not finite:
        return None
    return float(min(a.min() for a in finite)), float(max(a.max() for a in finite))


def stable_limits(
    current: tuple[float, float] | None, data: tuple[float, float] | None
) -> tuple[float, float]:
    """y limits that stay put while the data fits them, so a redraw can reuse the axes.

    New limits (the data plus 8% each side) are chosen only when the data leaves the
    current ones or fills less than half of them. Still axes also help the eye: two
    rollouts on the same scale compare at a glance.

    Args:
        current: the limits shown now, or None before the first draw.
        data: (min, max) of the data to show, or None when there is none.

    >>> stable_limits((-1.0, 1.0), (-0.9, 0.5))
    (-1.0, 1.0)
    >>> stable_limits((-1.0, 1.0), (-0.9, 1.5))
    (-1.092, 1.692)
    """
    if data is None:
        return current or (-1.0, 1.0)
    lo, hi = data
    if hi - lo < 1e-9 * max(1.0, abs(lo), abs(hi)):  # a flat line: give it some room
        half = 0.1 * max(abs(lo), 1.0)
        lo, hi = lo - half, hi + half
    if current is not None:
        c_lo, c_hi = current
        if c_lo <= lo and hi <= c_hi and hi - lo >= _SHRINK_BELOW * (c_hi - c_lo):
            return current
    pad = _PAD * (hi - lo)
    return round(lo - pad, 12), round(hi + pad, 12)

def return_so_far(rewards: np.ndarray, done: np.ndarray) -> np.ndarray:
    """(envs, T) rewards summed within each episode, restarting after each done step.

    Args:
        rewards: (envs, T) rewards.
        done: (envs, T) bools, True where an episode ended.

    >>> return_so_far(np.ones((1, 4)), np.array([[False, True, False, False]])).tolist()
    [[1.0, 2.0, 1.0, 2.0]]
    """
    out = np.empty_like(rewards, dtype=float)
    total = np.zeros(rewards.shape[0])
    done = done.reshape(rewards.shape)
    for t in range(rewards.shape[1]):
        total = total + rewards[:, t]
        out[:, t] = total
        total = np.where(done[:, t], 0.0, total)
    return out
