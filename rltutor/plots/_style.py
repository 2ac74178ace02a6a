"""The house style of every rltutor picture and every lesson's own plot, set here once.

* **Colour:** the Okabe-Ito palette, which readers with any common colour-vision
  deficiency can tell apart (tab10's red against green cannot be). Colours that carry a
  meaning have a name (``ROLES``); a series that must be told apart from another also
  gets a second cue, a line style and a marker (:func:`series_style`).
* **Background:** opaque white with black text, so a picture reads the same on
  JupyterLab's dark theme and on the course site in dark mode as on a light page.
* **Layout:** ``layout="constrained"`` (rltutor's rollout and buffer figures place their
  axes by hand instead, for fast redraws); the rc values below apply while axes are made.

>>> series_style(1)["ls"], PALETTE[0]
('--', '#0072B2')
"""

from __future__ import annotations

from typing import Any

from cycler import cycler

__all__ = ["HOUSE_RC", "LINESTYLES", "MARKERS", "PALETTE", "ROLES", "series_style"]

# Okabe & Ito (2008), in the order series take them; yellow last, as it is faint on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
           "#F0E442")
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

# Colours with a meaning, the same in every picture (each also has a shape: a marker or a
# line style where it is drawn).
ROLES = {
    "explored": "#D55E00",   # vermillion, drawn as crosses: a step where exploring acted
    "reward": "#009E73",     # bluish green, solid
    "done": "#6E6E6E",       # grey, dotted: an episode ended here
    "target": "#000000",     # black, dashed: a threshold or target return
    "best": "#D55E00",       # vermillion star: the best checkpoint
    "empty": "#E8E8E8",      # an unfilled slot
    "neutral": "#444444",    # arrows and annotations
    "band": "#999999",       # a shaded range that is context, not data
}

# Applied while a Picture makes its axes (so lines take the palette in order), never to
# matplotlib's global rcParams: a learner's own pyplot figures stay as they were.
HOUSE_RC: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=PALETTE),
    "figure.facecolor": "white",
    "figure.edgecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "black",
    "text.color": "black",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def series_style(index: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``index``-th series: two cues, not colour alone.

    Args:
        index: the series' place (0 first); past the palette's end the cues repeat.

    >>> series_style(0)
    {'color': '#0072B2', 'ls': '-', 'marker': 'o'}
    """
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"index must be a whole number >= 0, got {index!r}")
    return {"color": PALETTE[index % len(PALETTE)],
            "ls": LINESTYLES[index % len(LINESTYLES)],
            "marker": MARKERS[index % len(MARKERS)]}
