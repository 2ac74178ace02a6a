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

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["ActionSeries", "RolloutFigure", "RolloutSeries", "encode_png", "plot_rollout",
           "rollout_series"]

MAX_OBSERVATION_LINES = 8
_EXPLORED_COLOR = "#d62728"
_REWARD_COLOR = "#2ca02c"
_EXTRA_PANEL_HEIGHT = 1.5  # inches per action part after the first
_DONE_COLOR = "#7f7f7f"
_NAN = float("nan")
# Legends sit above their panel, right-aligned, so they never hide the data.
_LEGEND = {"loc": "lower right", "bbox_to_anchor": (1.0, 0.98), "fontsize": 8,
           "frameon": False, "borderaxespad": 0.0, "handlelength": 1.5}  # fmt: skip
# y limits: padding around the data when they are (re)chosen, and how small the data may
# get (as a share of the shown range) before the axis zooms back in.
_PAD = 0.08
_SHRINK_BELOW = 0.5


@dataclass
class ActionSeries:
    """One part of the action (the whole action unless it is composite), per step."""

    name: str  # "action", or the part's key in a composite action ("direction")
    values: np.ndarray  # (..., T, A) continuous values, or (..., T) index when discrete
    discrete: bool
    num_actions: int | None  # choices when discrete
    greedy: np.ndarray | None  # same shape: what the policy does without exploring
    explored: np.ndarray | None  # (..., T) bool: this part differs from the greedy one

    @property
    def width(self) -> int:
        """Lines this part draws: 1 for a discrete part, A for a continuous one."""
        return 1 if self.discrete else int(self.values.shape[-1])


@dataclass
class RolloutSeries:
    """The numbers a rollout plot draws, as numpy arrays indexed by time step.

    Arrays keep the rollout's batch dims: ``(T, ...)`` for one environment, ``(B, T, ...)``
    for a batched one (``num_envs`` = B; more leading dims are flattened into B).
    """

    steps: np.ndarray  # (T,) step index
    observation: np.ndarray | None  # (..., T, D) or None when there is no vector observation
    observation_names: list[str]
    actions: list[ActionSeries]  # one per part of the action
    reward: np.ndarray  # (..., T)
    done: np.ndarray  # (..., T) bool: the step ended an episode
    explored: np.ndarray | None  # (..., T) bool, or None when unknown
    num_envs: int = 1
    batched: bool = False

    # The whole action when it has one part (or its first part), as before composites.
    @property
    def action(self) -> np.ndarray:
        return self.actions[0].values

    @property
    def discrete(self) -> bool:
        return self.actions[0].discrete

    @property
    def num_actions(self) -> int | None:
        return self.actions[0].num_actions

    @property
    def greedy_action(self) -> np.ndarray | None:
        return self.actions[0].greedy

    def per_env(self, array: np.ndarray | None) -> np.ndarray | None:
        """``array`` with a leading env dim, also for a single env's rollout."""
        return array if array is None or self.batched else array[None]


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().to("cpu").float().numpy() if x.is_floating_point() else x.cpu().numpy()


def _as_discrete(
    action: torch.Tensor, batch: int = 1, choices: int | None = None
) -> tuple[bool, np.ndarray, int | None]:
    """(discrete?, values, number of choices). One-hot and integer actions are discrete.

    ``batch`` leading dims index steps (and envs); ``choices`` is the spec's count, if known.
    """
    lead = action.shape[:batch]
    if action.is_floating_point():
        return False, _numpy(action.reshape(*lead, -1)), None
    if action.dtype == torch.bool or (action.ndim == batch + 1 and action.shape[-1] > 1):
        # one-hot (the action spec of CartPole in TorchRL): index of the 1
        return True, _numpy(action.long().argmax(-1)), int(action.shape[-1])
    index = _numpy(action.reshape(*lead, -1)[..., 0])
    seen = int(index.max()) + 1 if index.size else 1
    return True, index, max(seen, choices or 0)


def _action_series(
    name: str, taken: torch.Tensor, greedy: Any, explored: np.ndarray | None,
    batch: int, choices: int | None, compare: bool,
) -> ActionSeries:  # fmt: skip
    discrete, values, n = _as_discrete(taken, batch, choices)
    greedy_values = None
    if greedy is not None:
        greedy = torch.as_tensor(greedy)
        if discrete:
            greedy_values = (_as_discrete(greedy, batch)[1] if greedy.ndim == batch + 1
                             else _numpy(greedy.reshape(greedy.shape[:batch])))  # fmt: skip
        else:
            greedy_values = _numpy(greedy.reshape(*greedy.shape[:batch], -1))
    part_explored = explored
    if compare and explored is not None and greedy_values is not None:
        # a composite step explored if any part did: mark only the parts that differ
        differs = values != greedy_values if discrete else np.abs(values - greedy_values) > 1e-5
        part_explored = explored & (differs if discrete else differs.any(-1))
    return ActionSeries(name, values, discrete, n, greedy_values, part_explored)


def rollout_series(
    td: Any,
    *,
    explored: Any = None,
    greedy_action: Any = None,
    observation_names: Sequence[str] | None = None,
    action_choices: dict[str, int] | None = None,
) -> RolloutSeries:
    """Pull the plotted quantities out of a rollout TensorDict.

    Works for one environment's rollout (batch ``[T]``) and for batched envs (``[B, T]``).
    A composite action (a TensorDict under ``"action"``) gives one :class:`ActionSeries`
    per part, log-probabilities left out. ``explored`` (a bool per step, shaped like the
    rollout's batch) marks exploratory steps. Without it, a rollout that holds
    ``action_value`` (a Q-value policy) counts a step as exploratory when the action
    taken is not the one with the highest value. ``greedy_action`` is the action the
    policy takes without exploring (a tensor, or a TensorDict for a composite action).
    ``observation_names`` label the observation entries (``obs[i]`` where missing);
    ``action_choices`` gives the number of choices of discrete parts, by part name.

    >>> s = rollout_series(rollout_td)  # doctest: +SKIP
    >>> s.reward.shape                  # doctest: +SKIP
    (200,)
    """
    from rltutor.rollouts import action_leaves

    if not hasattr(td, "batch_dims") or td.batch_dims < 1:
        raise ValueError(
            "a rollout must be a TensorDict with a time dimension (batch [T] or [envs, T]), "
            f"got {type(td).__name__} with batch size {tuple(getattr(td, 'batch_size', ()))}"
        )
    if "action" not in td.keys():
        raise ValueError(
            f"a rollout must hold an 'action' entry; this TensorDict has: {sorted(td.keys())}"
        )
    batched = td.batch_dims > 1
    if td.batch_dims > 2:  # e.g. [workers, envs, T]: every trajectory is one "env"
        td = td.reshape(-1, td.shape[-1])
    batch = td.batch_dims
    lead = tuple(td.shape)
    steps = np.arange(td.shape[-1])
    observation, names = None, []
    if "observation" in td.keys():
        obs = td["observation"]
        if obs.ndim == batch + 1:  # (..., T, D) vector observation; pixels are not drawn here
            observation = _numpy(obs)[..., :MAX_OBSERVATION_LINES]
            given = list(observation_names or ())
            names = [given[i] if i < len(given) else f"obs[{i}]"
                     for i in range(observation.shape[-1])]  # fmt: skip
    reward = _numpy(td["next", "reward"].reshape(*lead, -1).sum(-1))
    done = _numpy(td["next", "done"].reshape(*lead, -1).any(-1)).astype(bool)

    parts = action_leaves(td["action"])
    if not parts:
        raise ValueError("the rollout's 'action' has no entries to draw")
    composite = not isinstance(td["action"], torch.Tensor)
    if explored is None and not composite and "action_value" in td.keys():
        discrete, index, _ = _as_discrete(td["action"], batch)
        if discrete:
            best = td["action_value"].argmax(-1).cpu().numpy()
            explored = index.reshape(best.shape) != best
            if greedy_action is None:
                greedy_action = torch.as_tensor(best)
    if explored is not None:
        explored = np.asarray(_numpy(torch.as_tensor(explored)), dtype=bool)
        if explored.size != int(np.prod(lead)):
            raise ValueError(
                f"explored must have one entry per step (shape {lead}), "
                f"got {tuple(explored.shape)}"
            )
        explored = explored.reshape(lead)
    choices = action_choices or {}
    actions = []
    for name, taken in parts:
        if greedy_action is None:
            greedy = None
        elif composite:
            greedy = greedy_action.get(tuple(name.split(".")), None)
        else:
            greedy = greedy_action
        actions.append(_action_series(name, taken, greedy, explored, batch,
                                      choices.get(name), compare=composite))  # fmt: skip
    series = RolloutSeries(steps, observation, names, actions, reward, done, explored,
                           num_envs=lead[0] if batched else 1, batched=batched)  # fmt: skip
    return series


def _done_xy(steps: np.ndarray, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Line2D draws every done mark: vertical segments in axes coordinates."""
    at = steps[done]
    x = np.repeat(at, 3).astype(float)
    y = np.tile([0.0, 1.0, _NAN], at.size)
    x[2::3] = _NAN
    return x, y


def _finite_range(*arrays: np.ndarray | None) -> tuple[float, float] | None:
    """(min, max) over the finite values of ``arrays``, or None when there are none."""
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


def encode_png(rgb: np.ndarray) -> bytes:
    """An RGB image (H, W, 3 uint8) as PNG bytes, quickly: no row filters, zlib level 1.

    About 3 ms for an 816x557 plot, a third of Pillow's time at its fastest level for
    the same size of file: Pillow tries a filter per row, which pays off for photos,
    not for flat plot colours.

    >>> encode_png(np.zeros((2, 3, 3), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    height, width, channels = rgb.shape
    if channels != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    rows = np.empty((height, width * 3 + 1), np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = rgb.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.data, 1)) + chunk(b"IEND", b""))  # fmt: skip


class RolloutFigure(Figure):
    """A rollout figure (observations, actions, reward) that redraws itself in place.

    Panels: observations, one per part of the action (discrete parts as the index
    chosen), reward. Steps that ended an episode get a grey vertical line; exploratory
    steps get red crosses. A batched rollout (``[envs, T]``) draws every env: env 0 in
    full colour, the others as thin faint lines in the same colours.

    Redraws are cheap: y limits stay put while the data fits them (see
    :func:`stable_limits`), and while nothing but the data changed, :meth:`to_png` pastes
    the saved background (axes, ticks, labels, legends) and draws only the data lines.

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
        observation_names: Sequence[str] | None = None,
        env: Any = None,
        figsize: tuple[float, float] = (8.5, 5.8),
        dpi: float = 96,
    ) -> None:
        # Fixed margins instead of a layout engine: constrained layout would re-measure
        # every tick label on each redraw (about half the cost of a frame).
        super().__init__(figsize=figsize, dpi=dpi)
        self._base_size = (float(figsize[0]), float(figsize[1]))
        FigureCanvasAgg(self)  # an Agg canvas of its own: no pyplot, no GUI
        self._names = _names_for(observation_names, env, td)
        self._choices = _action_choices(env)
        self._generation = 0  # bumped whenever the axes are rebuilt
        self._background: Any = None
        self._background_key: tuple | None = None
        series = self._series(td, explored, greedy_action)
        self._build(series, title)
        self._set(series)

    def _series(self, td: Any, explored: Any, greedy_action: Any) -> RolloutSeries:
        return rollout_series(td, explored=explored, greedy_action=greedy_action,
                              observation_names=self._names,
                              action_choices=self._choices)  # fmt: skip

    @staticmethod
    def _layout(s: RolloutSeries) -> tuple:
        """What the axes and lines depend on: a rollout with another layout rebuilds them."""
        ndim = 0 if s.observation is None else s.observation.shape[-1]
        parts = tuple((a.name, a.discrete, a.width, a.num_actions) for a in s.actions)
        return ndim, s.num_envs, parts

    # -- building (once) ---------------------------------------------------------------
    def _build(self, s: RolloutSeries, title: str | None) -> None:
        self._generation += 1
        n_parts = len(s.actions)
        # Each extra action part gets a panel of its own, and the figure grows to fit it.
        width, height = self._base_size
        height += _EXTRA_PANEL_HEIGHT * (n_parts - 1)
        if tuple(self.get_size_inches()) != (width, height):
            self.set_size_inches(width, height)
        bottom = 0.085 * self._base_size[1] / height
        top = 1 - 0.09 * self._base_size[1] / height
        self.subplots_adjust(left=0.09, right=0.98, bottom=bottom, top=top, hspace=0.3)
        axes = self.subplots(n_parts + 2, 1, sharex=True)
        self.ax_obs, self.ax_reward = axes[0], axes[-1]
        self.ax_actions = list(axes[1:-1])
        self.ax_action = self.ax_actions[0]
        self.suptitle(title or "", fontsize=11, x=0.09, ha="left")
        for ax in self.axes:
            ax.grid(True, alpha=0.3)
            ax.margins(x=0)
        self.ax_obs.set_ylabel("observation")
        for ax, part in zip(self.ax_actions, s.actions):
            ax.set_ylabel(part.name)  # "action", or the part's name in a composite action
        self.ax_reward.set_ylabel("reward")
        self.ax_reward.set_xlabel("step")
        for ax in self.axes:  # labels at a fixed place, whatever the tick label widths
            ax.yaxis.set_label_coords(-0.075, 0.5)

        ndim = 0 if s.observation is None else s.observation.shape[-1]
        envs = range(s.num_envs)
        # _obs[b][i], _acts[b][p][d], _rewards[b]: the line of env b; env 0 is drawn last,
        # on top of the others.
        self._obs = [[self.ax_obs.plot([], [], color=f"C{i}", label=name, **_env_style(b))[0]
                      for i, name in enumerate(s.observation_names)] for b in envs]  # fmt: skip
        if ndim == 0:
            self.ax_obs.text(0.5, 0.5, "no vector observation", ha="center",
                             transform=self.ax_obs.transAxes, color=_DONE_COLOR)  # fmt: skip
        elif ndim <= 4:
            self.ax_obs.legend(handles=self._obs[0], **_LEGEND, ncols=ndim)

        self._acts = [
            [[ax.plot([], [], color=f"C{d}", label="action taken",
                      **({"drawstyle": "steps-mid"} if part.discrete else {}), **_env_style(b))[0]
              for d in range(part.width)] for ax, part in zip(self.ax_actions, s.actions)]
            for b in envs
        ]  # fmt: skip
        self._greedy = [
            [ax.plot([], [], lw=1.0, ls="--", color="k", alpha=0.6, zorder=3,
                     label="deterministic action",
                     **({"drawstyle": "steps-mid"} if part.discrete else {}))[0]
             for _ in range(part.width)]
            for ax, part in zip(self.ax_actions, s.actions)
        ]  # fmt: skip
        self._explored = [
            ax.plot([], [], ls="none", marker="x", ms=5, mew=1.2, color=_EXPLORED_COLOR,
                    label="exploratory step", zorder=4)[0]
            for ax in self.ax_actions
        ]  # fmt: skip
        # the other envs' exploratory steps, faint like their lines
        self._explored_others = [
            ax.plot([], [], ls="none", marker="x", ms=4, mew=1.0, color=_EXPLORED_COLOR,
                    alpha=0.35, zorder=2)[0]
            for ax in (self.ax_actions if s.num_envs > 1 else ())
        ]  # fmt: skip
        for ax, part in zip(self.ax_actions, s.actions):
            if part.discrete:
                n = part.num_actions or 1
                ax.set_yticks(range(n))
                ax.set_ylim(-0.5, n - 0.5)

        self._rewards = [self.ax_reward.plot([], [], color=_REWARD_COLOR, label=f"env {b}",
                                             **_env_style(b))[0] for b in envs]  # fmt: skip
        if s.num_envs > 1:
            others = "env 1" if s.num_envs == 2 else f"envs 1–{s.num_envs - 1}"
            self._rewards[1].set_label(f"{others} (faint)")
            self.ax_reward.legend(handles=self._rewards[:2], **_LEGEND, ncols=2)
        self.done_lines = [
            ax.plot([], [], color=_DONE_COLOR, lw=1.0, ls=":", transform=ax.get_xaxis_transform(),
                    label="done")[0]
            for ax in self.axes
        ]  # fmt: skip
        self._shape = self._layout(s)
        self._legend_for: tuple | None = None
        self._ylims: dict[Any, tuple[float, float] | None] = {"obs": None, "reward": None}
        self._ylims.update({("action", p): None for p in range(n_parts)})

    # env 0's lines, and every action part's lines in one list, as named before batches
    @property
    def obs_lines(self) -> list[Line2D]:
        return self._obs[0]

    @property
    def action_lines(self) -> list[Line2D]:
        return [line for part in self._acts[0] for line in part]

    @property
    def greedy_lines(self) -> list[Line2D]:
        return [line for part in self._greedy for line in part]

    @property
    def explored_line(self) -> Line2D:
        return self._explored[0]

    @property
    def reward_line(self) -> Line2D:
        return self._rewards[0]

    @property
    def reward_lines(self) -> list[Line2D]:
        """One reward line per env (env 0 first)."""
        return self._rewards

    def _data_artists(self) -> list[Any]:
        """What changes from one rollout to the next (everything else is background)."""
        envs = range(len(self._obs) - 1, -1, -1)  # env 0 last: drawn on top
        return [*(line for b in envs for line in self._obs[b]),
                *(line for b in envs for part in self._acts[b] for line in part),
                *self.greedy_lines, *self._explored_others, *self._explored,
                *(self._rewards[b] for b in envs), *self.done_lines]  # fmt: skip

    # -- updating (every rollout) -------------------------------------------------------
    def update(self, td: Any, *, explored: Any = None, greedy_action: Any = None,
               title: str | None = None) -> RolloutFigure:  # fmt: skip
        """Show another rollout on the same axes and lines; returns ``self``.

        A rollout with a different layout (observation size, action parts, number of
        envs) rebuilds the axes once; the Figure object stays the same.
        """
        s = self._series(td, explored, greedy_action)
        if self._layout(s) != self._shape:
            self.clear()
            self._build(s, title)
        elif title is not None and title != self.get_suptitle():
            self.suptitle(title, fontsize=11, x=0.09, ha="left")
        self._set(s)
        return self

    def _set(self, s: RolloutSeries) -> None:
        x = s.steps
        T = len(x)
        obs = s.per_env(s.observation)
        for b, lines in enumerate(self._obs):
            for i, line in enumerate(lines):
                line.set_data(x, obs[b, :, i])
        explored_any = s.explored is not None and bool(s.explored.any())
        shown: list[Any] = []
        action_ranges = []
        for p, part in enumerate(s.actions):
            values = s.per_env(part.values).reshape(s.num_envs, T, -1)
            for b in range(s.num_envs):
                for d, line in enumerate(self._acts[b][p]):
                    line.set_data(x, values[b, :, d])
            # the deterministic action of env 0, shown where it matters: something explored
            greedy = None if part.greedy is None else s.per_env(part.greedy).reshape(
                s.num_envs, T, -1)[0]
            visible = greedy is not None and explored_any
            for d, line in enumerate(self._greedy[p]):
                line.set_visible(visible)
                line.set_data((x, greedy[:, d]) if visible else ([], []))
            mask = None if part.explored is None else s.per_env(part.explored)
            if mask is not None and mask[0].any():
                self._explored[p].set_data(x[mask[0]], values[0, :, 0][mask[0]])
            else:
                self._explored[p].set_data([], [])
            if self._explored_others:
                rest = mask[1:] if mask is not None else np.zeros((0, T), bool)
                xs = np.broadcast_to(x, rest.shape)[rest]
                self._explored_others[p].set_data(xs, values[1:, :, 0][rest])
            if p == 0:
                shown = [self._acts[0][0][0]] + ([self._greedy[0][0]] if visible else [])
            if mask is not None and mask.any() and len(shown) < 3:
                shown.append(self._explored[p])
            action_ranges.append(None if part.discrete else _finite_range(values, greedy))
        # The legend lists only what is drawn; rebuilt only when that changes.
        if tuple(shown) != self._legend_for:
            self.ax_action.legend(handles=shown, **_LEGEND, ncols=3)
            self._legend_for = tuple(shown)
        rewards = s.per_env(s.reward)
        for b, line in enumerate(self._rewards):
            line.set_data(x, rewards[b])
        # env 0's episode ends; other envs' would crowd the panels (their lines show them)
        dx, dy = _done_xy(x, s.per_env(s.done)[0])
        for line in self.done_lines:
            line.set_data(dx, dy)

        right = max(T - 1, 1)
        if self.ax_obs.get_xlim() != (0, right):
            self.ax_obs.set_xlim(0, right)  # shared: sets all panels
        self._set_ylim("obs", self.ax_obs, _finite_range(s.observation))
        for p, (ax, data) in enumerate(zip(self.ax_actions, action_ranges)):
            if data is not None:
                self._set_ylim(("action", p), ax, data)
        self._set_ylim("reward", self.ax_reward, _finite_range(s.reward, np.zeros(1)))
        self.series = s
        # No draw here: on this Agg canvas draw_idle would draw at once, and to_png()
        # (or Jupyter's _repr_png_) draws anyway; set_data has already marked us stale.

    def _set_ylim(self, name: Any, ax: Any, data: tuple[float, float] | None) -> None:
        limits = stable_limits(self._ylims[name], data)
        if limits != self._ylims[name]:
            ax.set_ylim(*limits)
            self._ylims[name] = limits

    # -- output --------------------------------------------------------------------------
    def _layout_key(self) -> tuple:
        """Everything the background depends on; when it changes, draw it again."""
        legends = tuple(
            tuple(t.get_text() for t in legend.get_texts()) if legend else ()
            for legend in (ax.get_legend() for ax in self.axes)
        )
        return (
            self._generation, self.dpi, self.canvas.get_width_height(),
            tuple((ax.get_xlim(), ax.get_ylim()) for ax in self.axes),
            self.get_suptitle(), legends,
        )  # fmt: skip

    def draw_rgba(self, *, reuse_background: bool = True) -> np.ndarray:
        """Draw with Agg and return the pixels, an (H, W, 4) RGBA view of the canvas.

        With ``reuse_background`` (the default), a figure whose axes, limits, titles and
        legends are as they were at the last call pastes its saved background and draws
        only the data lines: about 4 ms instead of about 25 ms. Changed anything else
        by hand (a title on an axis, a colour)? Pass ``reuse_background=False``.
        """
        canvas = self.canvas
        key = self._layout_key()
        if not reuse_background or key != self._background_key or self._background is None:
            data = self._data_artists()
            for artist in data:
                artist.set_animated(True)  # a canvas draw (not a save) leaves these out
            try:
                canvas.draw()
            finally:
                for artist in data:
                    artist.set_animated(False)
            self._background = canvas.copy_from_bbox(self.bbox)
            self._background_key = key
        else:
            canvas.restore_region(self._background)
        for ax in self.axes:
            for artist in self._data_artists():
                if artist.axes is ax:
                    ax.draw_artist(artist)
            for spine in ax.spines.values():  # the frame goes over the lines, as in draw()
                ax.draw_artist(spine)
        self.stale = False
        return np.asarray(canvas.buffer_rgba())

    def to_png(self, *, reuse_background: bool = True) -> bytes:
        """The figure as PNG bytes (see :meth:`draw_rgba`; fast encoding for live updates)."""
        return encode_png(self.draw_rgba(reuse_background=reuse_background)[..., :3])

    def _repr_png_(self) -> bytes:
        # Shown once per cell: draw everything, in case the figure was changed by hand.
        return self.to_png(reuse_background=False)


def _env_style(env: int) -> dict[str, Any]:
    """Env 0 drawn in full, the other envs of a batch thin and faint behind it."""
    if env == 0:
        return {"lw": 1.2, "zorder": 2.5}
    return {"lw": 0.8, "alpha": 0.35, "zorder": 2}


def _action_choices(env: Any) -> dict[str, int]:
    """Number of choices of each discrete action part, from the env's action spec."""
    spec = getattr(env, "full_action_spec", None) if env is not None else None
    if spec is None or "action" not in spec.keys():
        return {}
    spec = spec["action"]
    leaves = spec.items(True, True) if hasattr(spec, "items") else [("action", spec)]
    choices = {}
    for key, leaf in leaves:
        n = getattr(getattr(leaf, "space", None), "n", None)
        if isinstance(n, int):
            name = key if isinstance(key, str) else ".".join(key)
            choices[name] = n
    return choices


def _names_for(names: Sequence[str] | None, env: Any, td: Any) -> list[str] | None:
    if names is not None:
        if isinstance(names, str):
            raise ValueError(f"observation_names must be a list of names, got the string {names!r}")
        return [str(n) for n in names]
    if env is None:
        return None
    from rltutor.envs import observation_names

    obs = td.get("observation", None) if hasattr(td, "get") else None
    size = int(obs.shape[-1]) if obs is not None and obs.ndim >= 1 else None
    return observation_names(env, size)


def plot_rollout(td: Any, **options: Any) -> RolloutFigure:
    """Draw a rollout: observations, actions and rewards per step, episode ends marked.

    Options: ``env`` (the environment the rollout came from: names the observation
    entries in the legend, e.g. "cos θ" for Pendulum), ``observation_names`` (or name
    them yourself), ``explored`` (bool per step, marks exploratory steps),
    ``greedy_action`` (what the policy would have done without exploring), ``title``,
    ``figsize``, ``dpi``. Discrete actions (one-hot or integer) are drawn as the index of
    the action taken.

    >>> fig = plot_rollout(rltutor.rollout(env, policy, steps=50), env=env)  # doctest: +SKIP
    >>> fig.update(rltutor.rollout(env, policy, steps=50, seed=1))  # doctest: +SKIP
    """
    return RolloutFigure(td, **options)
