"""The base of every rltutor picture: a Figure with a canvas of its own and a PNG repr.

No pyplot: a picture is never kept alive by pyplot's registry nor shown twice by the
inline backend; Jupyter shows it through ``_repr_mimebundle_``, whether or not the lesson
imported pyplot: the PNG (from the one encoder, ``rltutor._png``) and, as ``text/plain``,
a short description of what it shows (the site's alt text). Axes are made in the house
style (``_style.HOUSE_RC``) on an opaque white background, readable on a dark page.
"""

from __future__ import annotations

import base64
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rltutor._png import figure_png
from rltutor.plots._describe import describe
from rltutor.plots._style import HOUSE_RC

__all__ = ["Picture", "make_picture"]


class Picture(Figure):
    """A matplotlib Figure on its own Agg canvas that Jupyter shows as a PNG and a description.

    Args:
        alt: what the picture shows, in a sentence (its alt text); None describes it
            from its titles, labels and legends when it is shown.
        **kwargs: what ``matplotlib.figure.Figure`` takes (``figsize``, ``dpi``, ``layout``).

    >>> fig = Picture(figsize=(1, 1), dpi=20, alt="Nothing yet.")
    >>> fig.to_png()[:4], fig.description()
    (b'\\x89PNG', 'Nothing yet.')
    """

    def __init__(self, *, alt: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("facecolor", "white")  # opaque: stays readable on a dark page
        kwargs.setdefault("edgecolor", "white")
        super().__init__(**kwargs)
        FigureCanvasAgg(self)
        self.alt = alt

    # Axes are made under the house style; matplotlib's global rcParams are left alone.
    def add_subplot(self, *args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(HOUSE_RC):
            return super().add_subplot(*args, **kwargs)

    def add_axes(self, *args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(HOUSE_RC):
            return super().add_axes(*args, **kwargs)

    def description(self) -> str:
        """What the picture shows: ``alt`` when given, else read from the figure."""
        return self.alt or describe(self)

    def to_png(self) -> bytes:
        """The picture as PNG bytes, at the figure's own dpi."""
        return figure_png(self)

    def _repr_png_(self) -> bytes:
        return self.to_png()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        png = base64.b64encode(self._repr_png_()).decode("ascii")
        return {"image/png": png, "text/plain": self.description()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.description()}>"


def make_picture(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] = (8.0, 3.0),
    alt: str | None = None,
    dpi: float = 96,
    **subplots_kw: Any,
) -> tuple[Picture, Any]:
    """A lesson's own plot in the house style: ``(fig, axes)``, as ``plt.subplots`` gives.

    The figure is a :class:`Picture` (constrained layout, white, the Okabe-Ito palette,
    a description as its alt text); return it as a cell's last value, or from an
    ``interact_figure`` callback. No ``plt.close`` is needed: pyplot never holds it.

    Args:
        nrows: rows of panels.
        ncols: columns of panels.
        figsize: width and height in inches.
        alt: what the picture shows, in a sentence; None describes it from its titles,
            labels and legends.
        dpi: pixels per inch.
        **subplots_kw: what ``Figure.subplots`` takes (``sharex``, ``width_ratios``, ...).

    >>> fig, ax = make_picture(figsize=(3, 2), alt="A rising line.")
    >>> _ = ax.plot([0, 1, 2])
    >>> fig.description(), fig.get_facecolor()
    ('A rising line.', (1.0, 1.0, 1.0, 1.0))
    """
    for name, n in (("nrows", nrows), ("ncols", ncols)):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {n!r}")
    fig = Picture(figsize=figsize, dpi=dpi, layout="constrained", alt=alt)
    return fig, fig.subplots(nrows, ncols, **subplots_kw)
