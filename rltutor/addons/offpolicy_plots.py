"""Pictures for lesson 14 (SAC against TD3): exploration spread, critics, checkpoints.

Each function takes plain numbers or tensors (measured with
:mod:`rltutor.addons.offpolicy_probes`) and returns a matplotlib Figure with a canvas of its own
(no pyplot)::

    >>> fig = plot_action_spread({"SAC": [1.2, 0.6, 0.3], "TD3": [0.2, 0.15, 0.12]},
    ...                          frames=[1000, 2000, 3000])
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['SAC', 'TD3']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from rltutor.plots._picture import Picture
from rltutor.plots._style import PALETTE

__all__ = ["plot_action_spread", "plot_checkpoints", "plot_critics_along"]

_COLOURS = {"SAC": PALETTE[0], "TD3": PALETTE[1]}  # plot_learning_curves' first two colours


def _figure(figsize: tuple[float, float]) -> Figure:
    return Picture(figsize=figsize, dpi=96, layout="constrained")


def _colour(label: str, i: int) -> str:
    return _COLOURS.get(label, PALETTE[(i + 2) % len(PALETTE)])


def plot_action_spread(
    spreads: Mapping[str, Sequence[float]],
    *,
    frames: Sequence[int],
    alpha: Sequence[float] | None = None,
) -> Figure:
    """How widely each agent's collecting policy scatters its actions, over training.

    Args:
        spreads: label -> one spread per evaluation point (std of the torque, as
            :func:`rltutor.addons.offpolicy_probes.action_spread` measures it).
        frames: the frames collected at each evaluation point.
        alpha: SAC's entropy coefficient at the same points; drawn in a second panel.
    """
    if not spreads:
        raise ValueError("spreads is empty: pass {label: [spread per evaluation point]}")
    fig = _figure((9.5, 3.2) if alpha is not None else (6.5, 3.2))
    axes = fig.subplots(1, 2 if alpha is not None else 1, squeeze=False)[0]
    for i, (label, values) in enumerate(spreads.items()):
        if len(values) != len(frames):
            raise ValueError(f"spreads[{label!r}] has {len(values)} values for "
                             f"{len(frames)} frames")
        axes[0].plot(frames, values, "o-", color=_colour(label, i), label=label)
    axes[0].set(xlabel="frames collected", ylabel="std of the torque (N·m)", ylim=(0, None),
                title="exploration: spread of the collected actions")
    axes[0].legend(frameon=False)
    axes[0].grid(alpha=0.3)
    if alpha is not None:
        axes[1].plot(frames, alpha, "o-", color=_colour("SAC", 0))
        axes[1].set(xlabel="frames collected", ylabel="alpha", yscale="log",
                    title="SAC's entropy coefficient")
        axes[1].grid(alpha=0.3, which="both")
    return fig


def plot_critics_along(
    panels: Mapping[str, Mapping[str, torch.Tensor]],
    *,
    gamma: float,
) -> Figure:
    """Each agent's twin critics along one greedy episode, against the return-to-go.

    Args:
        panels: label -> ``{"return_to_go": [T], "critics": [2, T]}`` (lesson 09's picture,
            once per agent).
        gamma: the discount used for the return-to-go (sets the shaded horizon).

    >>> panel = {"return_to_go": torch.linspace(-50, 0, 20), "critics": torch.zeros(2, 20)}
    >>> [ax.get_title() for ax in plot_critics_along({"TD3": panel}, gamma=0.9).axes]
    ['TD3']
    """
    if not panels:
        raise ValueError("panels is empty: pass {label: {'return_to_go': ..., 'critics': ...}}")
    fig = _figure((4.6 * len(panels), 3.4))
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (label, data) in zip(axes, panels.items()):
        target = torch.as_tensor(data["return_to_go"]).reshape(-1)
        critics = torch.as_tensor(data["critics"]).reshape(-1, len(target))
        steps = len(target)
        horizon = max(0, steps - round(1 / (1 - gamma))) if gamma < 1 else 0
        ax.axvspan(horizon, steps, color="#ddd", label="sum cut short by the time limit")
        ax.plot(target, "k-", lw=1.8, label="return-to-go (what followed)")
        for j, (values, style) in enumerate(zip(critics, ("-", "--"))):
            ax.plot(values, style, color=_colour(label, 0), lw=1.2, label=f"critic {j + 1}")
        ax.set(title=label, xlabel="step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("value")
    axes[-1].legend(fontsize=8, loc="lower right", frameon=False)
    return fig


def plot_checkpoints(
    panels: Mapping[str, Mapping[str, object]],
    *,
    max_speed: float = 8.0,
) -> Figure:
    """Per agent: the critic's value map over (angle, speed), the greedy path drawn on it.

    Args:
        panels: label -> ``{"value_map": [speeds, angles] tensor, "angle": [T],
            "speed": [T], "title": str}`` (angle in radians, 0 upright).
        max_speed: the speed range the map covers, ±max_speed.

    >>> view = {"value_map": torch.zeros(5, 7), "angle": torch.tensor([3.0, -3.0, 0.0]),
    ...         "speed": torch.zeros(3), "title": "SAC at 1,000 frames"}
    >>> plot_checkpoints({"SAC": view}).axes[0].get_title()
    'SAC at 1,000 frames'
    """
    if not panels:
        raise ValueError("panels is empty: pass {label: {'value_map': ..., 'angle': ...}}")
    fig = _figure((4.8 * len(panels), 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (label, data) in zip(axes, panels.items()):
        image = ax.imshow(np.asarray(data["value_map"]), origin="lower", aspect="auto",
                          cmap="viridis", extent=(-math.pi, math.pi, -max_speed, max_speed))
        angle = (np.asarray(data["angle"]) + math.pi) % (2 * math.pi) - math.pi
        jumps = np.abs(np.diff(angle)) > math.pi  # wrapping from +π to -π: break the line
        angle = np.insert(angle, np.flatnonzero(jumps) + 1, np.nan)
        speed = np.insert(np.asarray(data["speed"], dtype=float), np.flatnonzero(jumps) + 1,
                          np.nan)
        ax.plot(angle, speed, "w-", lw=1.2)
        ax.plot(angle[:1], speed[:1], "wo", ms=5, label="start")
        ax.set(title=str(data.get("title", label)), xlabel="angle θ (0 = upright)",
               ylabel="speed θ̇ (rad/s)", xlim=(-math.pi, math.pi), ylim=(-max_speed, max_speed))
        fig.colorbar(image, ax=ax, label="min of the twin Q values")
        ax.legend(fontsize=8, loc="upper right", frameon=False, labelcolor="white")
    return fig
