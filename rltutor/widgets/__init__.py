"""Live panels: controls wired to pure functions, so everything runs without a browser.

* :func:`explorer` (:class:`Explorer`): re-runs a policy's rollout and redraws its plot
  whenever epsilon, the exploration type, the device, the seed or the steps change;
* :func:`interact_figure` (:class:`FigureControls`): any controls redrawing a lesson's
  own figure.

Both are :class:`~rltutor.widgets._panel.LivePanel` s: the first call raises in the
learner's cell, later errors stay in the panel, and a still PNG goes with the widget
for exported notebooks.
"""

from __future__ import annotations

from rltutor._exploration import exploration_modules
from rltutor._png import figure_png
from rltutor.widgets._explorer import CONTROL_NAMES, Explorer, explorer
from rltutor.widgets._figure_controls import FigureControls, interact_figure
from rltutor.widgets._panel import LivePanel, short_error

__all__ = ["CONTROL_NAMES", "Explorer", "FigureControls", "LivePanel", "exploration_modules",
           "explorer", "figure_png", "interact_figure", "short_error"]
