"""``RolloutFigure``: a matplotlib Figure of a rollout that redraws itself in place.

Figures are made with ``matplotlib.figure.Figure`` directly, never through pyplot, so
none is left behind in pyplot's registry; Jupyter shows them through ``_repr_png_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from rltutor._png import encode_png
from rltutor.plots._axes import done_xy, finite_range, return_so_far, stable_limits
from rltutor.plots._band_artists import BandArtists, greedy_label
from rltutor.plots._bands import band_series
from rltutor.plots._picture import Picture
from rltutor.plots._series import RolloutSeries, action_choices, names_for, rollout_series
from rltutor.plots._style import LINESTYLES, PALETTE, ROLES

__all__ = ["RolloutFigure"]

_EXPLORED_COLOR = ROLES["explored"]  # and a cross marker: never colour alone
_REWARD_COLOR = ROLES["reward"]
_EXTRA_PANEL_HEIGHT = 1.5  # inches per action part after the first
_DONE_COLOR = ROLES["done"]
# Legends sit above their panel, right-aligned, so they never hide the data.
_LEGEND = {"loc": "lower right", "bbox_to_anchor": (1.0, 0.98), "fontsize": 8,
           "frameon": False, "borderaxespad": 0.0, "handlelength": 1.5}


class RolloutFigure(Picture):
    """A rollout figure (observations, actions, reward) that redraws itself in place.

    Panels: observations, one per part of the action (discrete parts as the index
    chosen), reward. Steps that ended an episode get a grey vertical line; exploratory
    steps get red crosses. A batched rollout (``[envs, T]``) draws every env: env 0 in
    full colour, the others as thin faint lines in the same colours.

    Redraws are cheap: y limits stay put while the data fits them (see
    :func:`stable_limits`), and while nothing but the data changed, :meth:`to_png` pastes
    the saved background (axes, ticks, labels, legends) and draws only the data lines.

    Args:
        td: the rollout to draw (see :func:`rltutor.plot_rollout` for every argument).
        explored: a bool per step marking exploratory steps.
        greedy_action: the action without exploring.
        title: the figure's title.
        observation_names: labels of the observation entries.
        env: the environment the rollout came from (names observations, counts choices).
        figsize: width and height in inches.
        dpi: pixels per inch.
        action_band: ``(low, high)`` per step for the first action part, or a dict by
            part name of ``(low, high)`` (continuous) or choice probabilities (discrete).
        band_of: ``"distribution"`` (a probabilistic actor's) or ``"noise"`` (a noise
            module's, around the action without noise): names the band in the legend.

    >>> from rltutor import make_env, make_actor, rollout
    >>> env = make_env("Pendulum-v1")
    >>> policy = make_actor(env)
    >>> fig = RolloutFigure(rollout(env, policy, steps=20), env=env)
    >>> lines = fig.obs_lines
    >>> fig.update(rollout(env, policy, steps=20, seed=1)).obs_lines == lines  # in place
    True
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
        action_band: Any = None,
        band_of: str = "distribution",
    ) -> None:
        # Fixed margins instead of a layout engine: constrained layout would re-measure
        # every tick label on each redraw (about half the cost of a frame).
        super().__init__(figsize=figsize, dpi=dpi)
        self._base_size = (float(figsize[0]), float(figsize[1]))
        self._names = names_for(observation_names, env, td)
        self._choices = action_choices(env)
        self._generation = 0  # bumped whenever the axes are rebuilt
        self._background: Any = None
        self._background_key: tuple | None = None
        series = self._series(td, explored, greedy_action)
        self._band, self._band_of = action_band, band_of
        self._build(series, title)
        self._set(series)

    def _series(self, td: Any, explored: Any, greedy_action: Any) -> RolloutSeries:
        return rollout_series(td, explored=explored, greedy_action=greedy_action,
                              observation_names=self._names,
                              action_choices=self._choices)

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
        # each observation entry: its colour and its line style (two cues, not one)
        self._obs = [[self.ax_obs.plot([], [], color=PALETTE[i % len(PALETTE)], label=name,
                                       ls=LINESTYLES[i % len(LINESTYLES)], **_env_style(b))[0]
                      for i, name in enumerate(s.observation_names)] for b in envs]
        if ndim == 0:
            self.ax_obs.text(0.5, 0.5, "no vector observation", ha="center",
                             transform=self.ax_obs.transAxes, color=_DONE_COLOR)
        elif ndim <= 4:
            self.ax_obs.legend(handles=self._obs[0], **_LEGEND, ncols=ndim)

        self._acts = [
            [[ax.plot([], [], color=PALETTE[d % len(PALETTE)], label="action taken",
                      # a choice per step as a tick on its row: a line flipping between rows
                      # every step fills the panel solid
                      **({"ls": "none", "marker": "|", "ms": 7} if part.discrete else {}),
                      **_env_style(b))[0]
              for d in range(part.width)] for ax, part in zip(self.ax_actions, s.actions)]
            for b in envs
        ]
        self._greedy = [
            [ax.plot([], [], lw=1.0, color="k", alpha=0.6, zorder=3,
                     label="deterministic action",
                     **({"ls": "none", "marker": "_", "ms": 7} if part.discrete
                        else {"ls": "--"}))[0]
             for _ in range(part.width)]
            for ax, part in zip(self.ax_actions, s.actions)
        ]
        self._bands = BandArtists(self.ax_actions, s.actions)
        self._explored = [
            ax.plot([], [], ls="none", marker="x", ms=5, mew=1.2, color=_EXPLORED_COLOR,
                    label="exploratory step", zorder=4)[0]
            for ax in self.ax_actions
        ]
        # the other envs' exploratory steps, faint like their lines
        self._explored_others = [
            ax.plot([], [], ls="none", marker="x", ms=4, mew=1.0, color=_EXPLORED_COLOR,
                    alpha=0.35, zorder=2)[0]
            for ax in (self.ax_actions if s.num_envs > 1 else ())
        ]
        for ax, part in zip(self.ax_actions, s.actions):
            if part.discrete:
                n = part.num_actions or 1
                ax.set_yticks(range(n))
                ax.set_ylim(-0.5, n - 0.5)

        self._rewards = [self.ax_reward.plot([], [], color=_REWARD_COLOR, label=f"env {b}",
                                             **_env_style(b))[0] for b in envs]
        if s.num_envs > 1:
            others = "env 1" if s.num_envs == 2 else f"envs 1–{s.num_envs - 1}"
            self._rewards[1].set_label(f"{others} (faint)")
            self.ax_reward.legend(handles=self._rewards[:2], **_LEGEND, ncols=2)
        self.done_lines = [
            ax.plot([], [], color=_DONE_COLOR, lw=1.0, ls=":", transform=ax.get_xaxis_transform(),
                    label="done")[0]
            for ax in self.axes
        ]
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
                *self.greedy_lines, *self._bands.artists, *self._explored_others,
                *self._explored,
                *(self._rewards[b] for b in envs), *self.done_lines]

    # -- updating (every rollout) -------------------------------------------------------
    def update(self, td: Any, *, explored: Any = None, greedy_action: Any = None,
               title: str | None = None, action_band: Any = None,
               band_of: str = "distribution") -> RolloutFigure:
        """Show another rollout on the same axes and lines; returns ``self``.

        A rollout with a different layout (observation size, action parts, number of
        envs) rebuilds the axes once; the Figure object stays the same.
        """
        s = self._series(td, explored, greedy_action)
        self._band, self._band_of = action_band, band_of
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
        bands = band_series(self._band, s.actions, s.num_envs)
        band_handles = self._bands.set(x, bands, self._band_of)
        action_ranges, legends = [], []
        for p, part in enumerate(s.actions):
            values = s.per_env(part.values).reshape(s.num_envs, T, -1)
            for b in range(s.num_envs):
                for d, line in enumerate(self._acts[b][p]):
                    line.set_data(x, values[b, :, d])
            greedy = None if part.greedy is None else s.per_env(part.greedy).reshape(
                s.num_envs, T, -1)[0]
            band = bands[p]
            # the deterministic action of env 0, shown where it means something: an
            # explored step, or a band the action is drawn from
            visible = greedy is not None and (explored_any or band is not None)
            for d, line in enumerate(self._greedy[p]):
                line.set_visible(visible)
                line.set_data((x, greedy[:, d]) if visible else ([], []))
                line.set_label(greedy_label(self._band_of))
            mask = None if part.explored is None else s.per_env(part.explored)
            if mask is not None and mask[0].any():
                self._explored[p].set_data(x[mask[0]], values[0, :, 0][mask[0]])
            else:
                self._explored[p].set_data([], [])
            if self._explored_others:
                rest = mask[1:] if mask is not None else np.zeros((0, T), bool)
                xs = np.broadcast_to(x, rest.shape)[rest]
                self._explored_others[p].set_data(xs, values[1:, :, 0][rest])
            shown = [self._acts[0][p][0]] + ([self._greedy[p][0]] if visible else [])
            shown += [band_handles[p]] if band_handles[p] is not None else []
            if mask is not None and mask.any():
                shown.append(self._explored[p])
            legends.append(shown)
            edges = () if band is None or band.low is None else (band.low[0], band.high[0])
            action_ranges.append(None if part.discrete else finite_range(
                values, greedy, *edges))
        # The legends list only what is drawn; rebuilt only when that changes.
        key = tuple((h, h.get_label()) for shown in legends for h in shown)
        if key != self._legend_for:
            for ax, shown in zip(self.ax_actions, legends):
                ax.legend(handles=shown, **_LEGEND, ncols=len(shown))
            self._legend_for = key
        rewards = s.per_env(s.reward)
        each = float(rewards.flat[0]) if rewards.size else 0.0
        constant = rewards.size > 1 and bool(np.all(rewards == each))
        if constant:  # CartPole's 1 per step is a flat line; the return so far is not
            rewards = return_so_far(rewards, s.per_env(s.done))
        label = "return so far" if constant else "reward"  # a constant reward: its sum
        if self.ax_reward.get_ylabel() != label:
            self.ax_reward.set_ylabel(label)
        for b, line in enumerate(self._rewards):
            line.set_data(x, rewards[b])
        # env 0's episode ends; other envs' would crowd the panels (their lines show them)
        dx, dy = done_xy(x, s.per_env(s.done)[0])
        for line in self.done_lines:
            line.set_data(dx, dy)

        right = max(T - 1, 1)
        if self.ax_obs.get_xlim() != (0, right):
            self.ax_obs.set_xlim(0, right)  # shared: sets all panels
        self._set_ylim("obs", self.ax_obs, finite_range(s.observation))
        for p, (ax, data) in enumerate(zip(self.ax_actions, action_ranges)):
            if data is not None:
                self._set_ylim(("action", p), ax, data)
        self._set_ylim("reward", self.ax_reward, finite_range(rewards, np.zeros(1)))
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
            self.get_suptitle(), legends, tuple(ax.get_ylabel() for ax in self.axes),
        )

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

