"""The artists of the action panels' bands: dotted edges for a continuous part, a ribbon
per choice for a discrete one (env 0 only; the other envs' lines are faint anyway)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D

from rltutor.plots._bands import PartBand, ribbon_polygons
from rltutor.plots._series import ActionSeries
from rltutor.plots._style import PALETTE

__all__ = ["BandArtists", "greedy_label"]

LABELS = {  # what the band is of -> (band, deterministic action) labels
    "distribution": ("5-95 % of the distribution", "deterministic action"),
    "noise": ("5-95 % of the noise", "action without noise"),
}
CHOICE_LABEL = "probability of each choice"


class BandArtists:
    """Per action panel: two edge lines per dimension, or one ribbon collection.

    Args:
        axes: the action panels, one per part.
        parts: the action parts they draw.
    """

    def __init__(self, axes: list[Any], parts: list[ActionSeries]) -> None:
        self.edges: list[list[Line2D]] = []
        self.ribbons: list[PolyCollection | None] = []
        for ax, part in zip(axes, parts):
            if part.discrete:
                self.edges.append([])
                ribbon = PolyCollection([], facecolors=PALETTE[0], edgecolors="none", alpha=0.22,
                                        zorder=1.5, label=CHOICE_LABEL)
                ax.add_collection(ribbon)
                self.ribbons.append(ribbon)
            else:
                self.edges.append([ax.plot([], [], lw=0.9, ls=":", alpha=0.9, zorder=2,
                                           color=PALETTE[i // 2 % len(PALETTE)])[0]
                                   for i in range(2 * part.width)])
                self.ribbons.append(None)

    @property
    def artists(self) -> list[Any]:
        """Everything that changes with the data."""
        return [*(line for lines in self.edges for line in lines),
                *(r for r in self.ribbons if r is not None)]

    def set(self, steps: np.ndarray, bands: list[PartBand | None], of: str) -> list[Any]:
        """Draw env 0's bands; returns, per part, the legend handle of its band (or None)."""
        label = LABELS.get(of, LABELS["distribution"])[0]
        shown: list[Any] = []
        for lines, ribbon, band in zip(self.edges, self.ribbons, bands):
            if ribbon is not None:
                probs = None if band is None else band.probs
                ribbon.set_verts([] if probs is None else ribbon_polygons(steps, probs[0]))
                shown.append(None if probs is None else ribbon)
                continue
            has = band is not None and band.low is not None
            for i, line in enumerate(lines):
                d, edge = divmod(i, 2)
                data = None
                if has and d < band.low.shape[-1]:
                    data = (band.low if edge == 0 else band.high)[0, :, d]
                line.set_data((steps, data) if data is not None else ([], []))
                line.set_label(label)
            shown.append(lines[0] if has else None)
        return shown


def greedy_label(of: str) -> str:
    """The legend label of the action without exploring, beside a band ``of`` what.

    Args:
        of: ``"distribution"`` or ``"noise"``.

    >>> greedy_label("noise"), greedy_label("distribution")
    ('action without noise', 'deterministic action')
    """
    return LABELS.get(of, LABELS["distribution"])[1]
