"""A picture's short description (its alt text), read from what the figure draws.

Titles, the y label of each panel with the names in its legend, and the x label: enough
for a reader who cannot see the picture to know what it shows, and for the course site's
``<img alt=...>``. A picture that knows better says so itself (``Picture(alt=...)``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["describe"]

_MAX_NAMES = 6  # legend entries named per panel; more are counted


def describe(fig: Any) -> str:
    """One or two sentences on what ``fig`` shows, from its titles, labels and legends.

    Args:
        fig: a matplotlib Figure.

    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> ax = fig.add_subplot()
    >>> _ = ax.plot([0, 1], label="loss"), ax.set_xlabel("step"), ax.set_ylabel("value")
    >>> _ = ax.legend()
    >>> describe(fig)
    'Plot of value (loss) against step.'
    """
    titles = [fig.get_suptitle()] if hasattr(fig, "get_suptitle") else []
    panels, xlabels = [], []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        titles.append(ax.get_title())
        if not ax.axison:  # a diagram drawn on hidden axes: its title says what it is
            continue
        name = ax.get_ylabel()
        names = _legend_names(ax)
        if names:
            more = len(names) - _MAX_NAMES
            shown = ", ".join(names[:_MAX_NAMES]) + (f" and {more} more" if more > 0 else "")
            name = f"{name} ({shown})" if name else shown
        if name and name not in panels:
            panels.append(name)
        xlabel = ax.get_xlabel()
        if xlabel and xlabel not in xlabels:
            xlabels.append(xlabel)
    kind = "Plot" if len(panels) <= 1 else f"{len(panels)} panels"
    text = f"{kind} of {'; '.join(panels)}" if panels else ""
    if panels and xlabels:
        text += f" against {' and '.join(xlabels)}"
    said = []
    for title in titles:
        title = "; ".join(line.strip() for line in title.splitlines() if line.strip())
        if title and title not in said:
            said.append(title.rstrip("."))
    sentences = [*said, text] if text else said
    return " ".join(". ".join(sentences).split()) + "." if sentences else "A figure."


def _legend_names(ax: Any) -> list[str]:
    legend = ax.get_legend()
    if legend is None:
        return []
    return [t.get_text() for t in legend.get_texts() if t.get_text()]
