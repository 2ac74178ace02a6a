"""Plots of a rollout: observations, actions and rewards over time.

``plot_rollout(td)`` returns a :class:`RolloutFigure`, a ``matplotlib.figure.Figure``
that can redraw itself for another rollout in place (same axes, same lines)::

    >>> import rltutor
    >>> env = rltutor.make_env("Pendulum-v1")
    >>> policy = rltutor.make_actor(env)
    >>> fig = plot_rollout(rltutor.rollout(env, policy, steps=20), env=env)
    >>> fig = fig.update(rltutor.rollout(env, policy, steps=20, seed=1))
    >>> fig.to_png()[:4]
    b'\\x89PNG'

Lessons draw their own plots with ``make_picture`` (the house style of ``_style``: the
Okabe-Ito palette, a second cue for every pair, white backgrounds, a description as alt
text).

Layout: ``_series`` pulls the numbers out of a rollout (pure, no matplotlib), ``_axes``
places them (steady y limits, episode ends), ``_figure`` draws them; PNG bytes come from
``rltutor._png.encode_png``, the encoder widgets and frames use too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rltutor._png import encode_png
from rltutor.plots._axes import stable_limits
from rltutor.plots._describe import describe
from rltutor.plots._figure import RolloutFigure
from rltutor.plots._learning import plot_learning_curves
from rltutor.plots._picture import Picture, make_picture
from rltutor.plots._series import ActionSeries, RolloutSeries, rollout_series
from rltutor.plots._style import PALETTE, ROLES, series_style

__all__ = ["PALETTE", "ROLES", "ActionSeries", "Picture", "RolloutFigure", "RolloutSeries",
           "describe", "encode_png", "make_picture", "plot_learning_curves", "plot_rollout",
           "rollout_series", "series_style", "stable_limits"]


def plot_rollout(
    td: Any,
    *,
    env: Any = None,
    observation_names: Sequence[str] | None = None,
    explored: Any = None,
    greedy_action: Any = None,
    title: str | None = None,
    figsize: tuple[float, float] = (8.5, 5.8),
    dpi: float = 96,
    action_band: Any = None,
) -> RolloutFigure:
    """Draw a rollout: observations, actions and rewards per step, episode ends marked.

    Discrete actions (one-hot or integer) are drawn as the index of the action taken.
    A batched rollout (``[envs, T]``) draws env 0 in full and the others faint.

    Args:
        td: a rollout TensorDict (batch ``[T]`` or ``[envs, T]``) with ``action`` and
            ``("next", "reward")``.
        env: the environment the rollout came from: names the observation entries in
            the legend (e.g. "cos θ" for Pendulum) and counts discrete actions.
        observation_names: names for the observation entries, instead of ``env``'s.
        explored: a bool per step marking exploratory steps (red crosses); without it,
            a Q-value rollout marks the steps whose action is not the argmax.
        greedy_action: what the policy would have done without exploring (dashed).
        title: the figure's title.
        figsize: width and height in inches (each extra action part adds a panel).
        dpi: pixels per inch.
        action_band: ``(low, high)`` per step of a probabilistic policy's action
            distribution, drawn around the action with the deterministic one
            (``rltutor._action_band.action_band`` computes the 5 % and 95 % points).

    >>> import torch
    >>> from tensordict import TensorDict
    >>> td = TensorDict({"action": torch.zeros(5, 1), "observation": torch.zeros(5, 3),
    ...                  "next": {"reward": -torch.arange(5.0)[:, None],
    ...                           "done": torch.zeros(5, 1, dtype=torch.bool)}}, batch_size=[5])
    >>> [ax.get_ylabel() for ax in plot_rollout(td, title="zeros").axes]
    ['observation', 'action', 'reward']
    """
    return RolloutFigure(td, env=env, observation_names=observation_names, explored=explored,
                         greedy_action=greedy_action, title=title, figsize=figsize, dpi=dpi,
                         action_band=action_band)
