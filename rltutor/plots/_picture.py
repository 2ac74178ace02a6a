"""The base of every rltutor picture: a Figure with a canvas of its own and a PNG repr.

No pyplot: a picture is never kept alive by pyplot's registry nor shown twice by the
inline backend; Jupyter shows it through ``_repr_png_``, whether or not the lesson
imported pyplot. PNG bytes come from the one encoder, ``rltutor._png``.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rltutor._png import figure_png

__all__ = ["Picture"]


class Picture(Figure):
    """A matplotlib Figure on its own Agg canvas that Jupyter shows as a PNG.

    Args:
        **kwargs: what ``matplotlib.figure.Figure`` takes (``figsize``, ``dpi``, ``layout``).

    >>> Picture(figsize=(1, 1), dpi=20).to_png()[:4]
    b'\\x89PNG'
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        FigureCanvasAgg(self)

    def to_png(self) -> bytes:
        """The picture as PNG bytes, at the figure's own dpi."""
        return figure_png(self)

    def _repr_png_(self) -> bytes:
        return self.to_png()
