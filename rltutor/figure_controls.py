"""Kept for lessons written before the merge: these now live in :mod:`rltutor.widgets`.

>>> from rltutor.figure_controls import interact_figure  # doctest: +SKIP
"""

from rltutor.widgets import FigureControls, figure_png, interact_figure

__all__ = ["FigureControls", "figure_png", "interact_figure"]
