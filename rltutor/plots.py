"""Plots of a rollout: observations, actions and rewards over time.

``plot_rollout(td)`` returns a :class:`RolloutFigure`, a ``matplotlib.figure.Figure``
that can redraw itself for another rollout in place (same axes, same lines)::

    >>> fig = plot_rollout(rollout_td)            # doctest: +SKIP
    >>> fig.update(other_rollout_td)              # doctest: +SKIP
    >>> png = fig.to_png()                        # doctest: +SKIP

Figures are made with ``matplotlib.figure.Figure`` directly, never through pyplot, so
none is left behind in pyplot's registry; Jupyter shows them through ``_repr_png_``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["RolloutFigure", "RolloutSeries", "plot_rollout", "rollout_series"]

MAX_OBSERVATION_LINES = 8
_EXPLORED_COLOR = "#d62728"
_DONE_COLOR = "#7f7f7f"
_NAN = float("nan")
# Legends sit above their panel, right-aligned, so they never hide the data.
_LEGEND = {"loc": "lower right", "bbox_to_anchor": (1.0, 0.98), "fontsize": 8,
           "frameon": False, "borderaxespad": 0.0, "handlelength": 1.5}  # fmt: skip


@dataclass
class RolloutSeries:
    """The numbers a rollout plot draws, as numpy arrays indexed by time step."""

    steps: np.ndarray  # (T,) step index
    observation: np.ndarray | None  # (T, D) or None when there is no vector observation
    observation_names: list[str]
    action: np.ndarray  # (T, A) continuous values, or (T,) action index when discrete
    discrete: bool
    num_actions: int | None  # choices when discrete
    reward: np.ndarray  # (T,)
    done: np.ndarray  # (T,) bool: the step ended an episode
    explored: np.ndarray | None  # (T,) bool, or None when unknown
    greedy_action: np.ndarray | None  # what the policy would do without exploring


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().to("cpu").float().numpy() if x.is_floating_point() else x.cpu().numpy()


def _first_trajectory(td: Any) -> Any:
    # Batched envs give [B, T] rollouts: draw the first trajectory.
    while td.batch_dims > 1:
        td = td[0]
    return td


def _as_discrete(action: torch.Tensor) -> tuple[bool, np.ndarray, int | None]:
    """(discrete?, values, number of choices). One-hot and integer actions are discrete."""
    if action.is_floating_point():
        return False, _numpy(action.reshape(action.shape[0], -1)), None
    if action.dtype == torch.bool or (action.ndim == 2 and action.shape[-1] > 1):
        # one-hot (the action spec of CartPole in TorchRL): index of the 1
        return True, _numpy(action.long().argmax(-1)), int(action.shape[-1])
    index = _numpy(action.reshape(action.shape[0], -1)[:, 0])
    return True, index, int(index.max()) + 1 if index.size else 1


def rollout_series(
    td: Any,
    *,
    explored: Any = None,
    greedy_action: Any = None,
) -> RolloutSeries:
    """Pull the plotted quantities out of a rollout TensorDict.

    ``explored`` (a bool per step) marks exploratory steps. Without it, a rollout that
    holds ``action_value`` (a Q-value policy) counts a step as exploratory when the action
    taken is not the one with the highest value.

    >>> s = rollout_series(rollout_td)  # doctest: +SKIP
    >>> s.reward.shape                  # doctest: +SKIP
    (200,)
    """
    td = _first_trajectory(td)
    if "action" not in td.keys():
        raise ValueError(
            f"a rollout must hold an 'action' entry; this TensorDict has: {sorted(td.keys())}"
        )
    steps = np.arange(td.shape[0])
    observation, names = None, []
    if "observation" in td.keys():
        obs = td["observation"]
        if obs.ndim == 2:  # (T, D) vector observation; pixels are not drawn here
            observation = _numpy(obs)[:, :MAX_OBSERVATION_LINES]
            names = [f"obs[{i}]" for i in range(observation.shape[1])]
    discrete, action, num_actions = _as_discrete(td["action"])
    reward = _numpy(td["next", "reward"].reshape(td.shape[0], -1).sum(-1))
    done = _numpy(td["next", "done"].reshape(td.shape[0], -1).any(-1)).astype(bool)

    if explored is None and discrete and "action_value" in td.keys():
        best = td["action_value"].argmax(-1).cpu().numpy()
        explored = action.reshape(-1) != best
        if greedy_action is None:
            greedy_action = best
    if explored is not None:
        explored = np.asarray(_numpy(torch.as_tensor(explored)), dtype=bool).reshape(-1)
        if explored.shape[0] != steps.shape[0]:
            raise ValueError(
                f"explored must have one entry per step ({steps.shape[0]}), "
                f"got {explored.shape[0]}"
            )
    if greedy_action is not None:
        greedy = torch.as_tensor(greedy_action)
        if discrete:
            greedy_action = _as_discrete(greedy)[1] if greedy.ndim == 2 else _numpy(greedy)
        else:
            greedy_action = _numpy(greedy.reshape(greedy.shape[0], -1))
    return RolloutSeries(
        steps, observation, names, action, discrete, num_actions, reward, done,
        explored, greedy_action,
    )  # fmt: skip


def _done_xy(steps: np.ndarray, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Line2D draws every done mark: vertical segments in axes coordinates."""
    at = steps[done]
    x = np.repeat(at, 3).astype(float)
    y = np.tile([0.0, 1.0, _NAN], at.size)
    x[2::3] = _NAN
    return x, y


class RolloutFigure(Figure):
    """A three-panel rollout figure that redraws itself for a new rollout in place.

    Panels: observations, actions (discrete ones as the index chosen), reward. Steps that
    ended an episode get a grey vertical line; exploratory steps get red crosses.

    >>> fig = RolloutFigure(rollout_td)   # doctest: +SKIP
    >>> fig.update(next_rollout_td)       # same axes and lines, new data  # doctest: +SKIP
    """

    def __init__(
        self,
        td: Any,
        *,
        explored: Any = None,
        greedy_action: Any = None,
        title: str | None = None,
        figsize: tuple[float, float] = (8.5, 5.8),
        dpi: float = 96,
    ) -> None:
        # Fixed margins instead of a layout engine: constrained layout would re-measure
        # every tick label on each redraw (about half the cost of a frame).
        super().__init__(figsize=figsize, dpi=dpi)
        self.subplots_adjust(left=0.09, right=0.98, bottom=0.085, top=0.91, hspace=0.3)
        FigureCanvasAgg(self)  # an Agg canvas of its own: no pyplot, no GUI
        self._layout_for: tuple | None = None
        series = rollout_series(td, explored=explored, greedy_action=greedy_action)
        self._build(series, title)
        self._set(series)

    # -- building (once) ---------------------------------------------------------------
    def _build(self, s: RolloutSeries, title: str | None) -> None:
        self.ax_obs, self.ax_action, self.ax_reward = self.subplots(3, 1, sharex=True)
        self.suptitle(title or "", fontsize=11, x=0.09, ha="left")
        for ax in self.axes:
            ax.grid(True, alpha=0.3)
            ax.margins(x=0)
        self.ax_obs.set_ylabel("observation")
        self.ax_action.set_ylabel("action")
        self.ax_reward.set_ylabel("reward")
        self.ax_reward.set_xlabel("step")
        for ax in self.axes:  # labels at a fixed place, whatever the tick label widths
            ax.yaxis.set_label_coords(-0.075, 0.5)

        ndim = 0 if s.observation is None else s.observation.shape[1]
        self.obs_lines: list[Line2D] = [
            self.ax_obs.plot([], [], lw=1.2, label=name)[0] for name in s.observation_names
        ]
        if ndim == 0:
            self.ax_obs.text(0.5, 0.5, "no vector observation", ha="center",
                             transform=self.ax_obs.transAxes, color=_DONE_COLOR)  # fmt: skip
        elif ndim <= 4:
            self.ax_obs.legend(**_LEGEND, ncols=ndim)

        adim = 1 if s.discrete else s.action.shape[1]
        style = {"drawstyle": "steps-mid"} if s.discrete else {}
        self.action_lines = [
            self.ax_action.plot([], [], lw=1.2, label="action taken", **style)[0]
            for _ in range(adim)
        ]
        self.greedy_lines = [
            self.ax_action.plot([], [], lw=1.0, ls="--", color="k", alpha=0.6,
                                label="deterministic action", **style)[0]
            for _ in range(adim)
        ]  # fmt: skip
        self.explored_line = self.ax_action.plot(
            [], [], ls="none", marker="x", ms=5, mew=1.2, color=_EXPLORED_COLOR,
            label="exploratory step",
        )[0]  # fmt: skip
        if s.discrete:
            n = s.num_actions or 1
            self.ax_action.set_yticks(range(n))
            self.ax_action.set_ylim(-0.5, n - 0.5)

        self.reward_line = self.ax_reward.plot([], [], lw=1.2, color="#2ca02c")[0]
        self.done_lines = [
            ax.plot([], [], color=_DONE_COLOR, lw=1.0, ls=":", transform=ax.get_xaxis_transform(),
                    label="done")[0]
            for ax in self.axes
        ]  # fmt: skip
        self._shape = (ndim, s.discrete, adim, s.num_actions)

    # -- updating (every rollout) -------------------------------------------------------
    def update(self, td: Any, *, explored: Any = None, greedy_action: Any = None,
               title: str | None = None) -> RolloutFigure:  # fmt: skip
        """Show another rollout on the same axes and lines; returns ``self``.

        A rollout with a different layout (observation size, action kind) rebuilds the
        axes once; the Figure object stays the same.
        """
        s = rollout_series(td, explored=explored, greedy_action=greedy_action)
        ndim = 0 if s.observation is None else s.observation.shape[1]
        adim = 1 if s.discrete else s.action.shape[1]
        if (ndim, s.discrete, adim, s.num_actions) != self._shape:
            self.clear()
            self._build(s, title)
        elif title is not None:
            self.suptitle(title, fontsize=11, x=0.09, ha="left")
        self._set(s)
        return self

    def _set(self, s: RolloutSeries) -> None:
        x = s.steps
        for i, line in enumerate(self.obs_lines):
            line.set_data(x, s.observation[:, i])
        action = s.action.reshape(len(x), -1)
        for i, line in enumerate(self.action_lines):
            line.set_data(x, action[:, i])
        greedy = None if s.greedy_action is None else s.greedy_action.reshape(len(x), -1)
        for i, line in enumerate(self.greedy_lines):
            visible = greedy is not None and s.explored is not None and bool(s.explored.any())
            line.set_visible(visible)
            line.set_data((x, greedy[:, i]) if visible else ([], []))
        if s.explored is not None and s.explored.any():
            self.explored_line.set_data(x[s.explored], action[s.explored, 0])
        else:
            self.explored_line.set_data([], [])
        shown = [self.action_lines[0]]
        if self.greedy_lines[0].get_visible():
            shown.append(self.greedy_lines[0])
        if len(self.explored_line.get_xdata()):
            shown.append(self.explored_line)
        # Legend lists only what is drawn; a legend is cheap to rebuild (~1 ms).
        self.ax_action.legend(handles=shown, **_LEGEND, ncols=3)
        self.reward_line.set_data(x, s.reward)
        dx, dy = _done_xy(x, s.done)
        for line in self.done_lines:
            line.set_data(dx, dy)

        right = max(len(x) - 1, 1)
        for ax in self.axes:
            ax.set_xlim(0, right)
        for ax in (self.ax_obs, self.ax_reward) + (() if s.discrete else (self.ax_action,)):
            ax.relim()
            ax.autoscale_view(scalex=False)
        self.ax_reward.update_datalim([(0, 0)])
        self.ax_reward.autoscale_view(scalex=False)
        self.series = s
        # No draw here: on this Agg canvas draw_idle would draw at once, and to_png()
        # (or Jupyter's _repr_png_) draws anyway; set_data has already marked us stale.

    # -- output --------------------------------------------------------------------------
    def to_png(self) -> bytes:
        """The figure as PNG bytes (drawn with Agg; fast compression for live updates)."""
        from PIL import Image  # matplotlib depends on Pillow

        # Draw and encode directly: savefig would set up a fresh renderer each call.
        self.canvas.draw()
        rgba = np.asarray(self.canvas.buffer_rgba())
        buf = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _repr_png_(self) -> bytes:
        return self.to_png()


def plot_rollout(td: Any, **options: Any) -> RolloutFigure:
    """Draw a rollout: observations, actions and rewards per step, episode ends marked.

    Options: ``explored`` (bool per step, marks exploratory steps), ``greedy_action``
    (what the policy would have done without exploring), ``title``, ``figsize``, ``dpi``.
    Discrete actions (one-hot or integer) are drawn as the index of the action taken.

    >>> fig = plot_rollout(rltutor.rollout(env, policy, steps=50))  # doctest: +SKIP
    >>> fig.update(rltutor.rollout(env, policy, steps=50, seed=1))  # doctest: +SKIP
    """
    return RolloutFigure(td, **options)
