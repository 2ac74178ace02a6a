"""Learning curves across seeds: each run's mean, its spread, and every seed faintly.

One seed's curve is an anecdote. This draws, per label (an algorithm, a setting), the
mean over seeds as a line, the min-max range as a band and each seed as a thin line, so
a reader sees at once how far the runs agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rltutor.plots._picture import Picture
from rltutor.plots._style import ROLES, series_style

__all__ = ["plot_learning_curves"]

def _as_runs(label: str, runs: Sequence[Sequence[float]], width: int) -> np.ndarray:
    array = np.asarray(runs, dtype=float)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(
            f"curves[{label!r}] must be a list of per-seed lists of {width} returns "
            f"(one per value in frames), got an array of shape {array.shape}"
        )
    return array


def plot_learning_curves(
    curves: Mapping[str, Sequence[Sequence[float]]],
    *,
    frames: Sequence[float] | Mapping[str, Sequence[float]],
    threshold: float | None = None,
    threshold_label: str | None = None,
    title: str | None = None,
    ylabel: str = "greedy return",
    figsize: tuple[float, float] = (7.5, 4.2),
    dpi: float = 96,
) -> Picture:
    """Draw learning curves of several runs per label: mean line, min-max band, each seed.

    Args:
        curves: label -> one list per seed of returns, one per evaluation point.
        frames: the x value of each evaluation point (frames collected), one list for
            every label or a mapping label -> list.
        threshold: a horizontal line to draw (the registry's threshold, or a milestone).
        threshold_label: its legend text (say "milestone" when it is not the registry's).
        title: the figure's title.
        ylabel: the y axis label.
        figsize: width and height in inches.
        dpi: pixels per inch.

    >>> fig = plot_learning_curves({"SAC": [[-1200, -400, -160], [-1300, -500, -170]]},
    ...                            frames=[0, 1000, 2000], threshold=-200,
    ...                            threshold_label="milestone -200")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['SAC (2 seeds)', 'milestone -200']
    """
    if not curves:
        raise ValueError("curves is empty: pass {label: [[return per point] per seed]}")
    fig = Picture(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    for i, (label, runs) in enumerate(curves.items()):
        x = np.asarray(frames[label] if isinstance(frames, Mapping) else frames, dtype=float)
        array = _as_runs(label, runs, x.size)
        # colour and a line style per label: two cues, so no reader needs the colour
        style = series_style(i)
        colour = style["color"]
        for run in array:
            ax.plot(x, run, color=colour, lw=0.7, alpha=0.35)
        ax.fill_between(x, array.min(0), array.max(0), color=colour, alpha=0.15, lw=0)
        seeds = f"{len(array)} seed" + ("s" if len(array) != 1 else "")
        ax.plot(x, array.mean(0), color=colour, ls=style["ls"], marker=style["marker"], ms=4,
                lw=2.2, label=f"{label} ({seeds})")
    if threshold is not None:
        ax.axhline(threshold, color=ROLES["target"], ls="--", lw=1.2,
                   label=threshold_label or f"threshold {threshold:g}")
    ax.set_xlabel("frames collected")
    ax.set_ylabel(ylabel)
    # beside the axes, never over a curve (a flat failed run sits where "best" would put it)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return fig
