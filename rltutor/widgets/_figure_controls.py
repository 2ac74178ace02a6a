"""``FigureControls``: a lesson's own figure under controls (``interact_figure``).

``fn`` takes the controls' values as keyword arguments and returns a matplotlib Figure;
the panel shows it as a PNG in an ``ipywidgets.Image``. (An Image's bytes live in the
widget's state, so the picture shows even where an ``Output`` widget's captured display
would not, e.g. after a fresh "Run all" or in an exported notebook.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from rltutor._png import figure_png
from rltutor.widgets._panel import LivePanel

__all__ = ["FigureControls", "figure_png", "interact_figure"]


class FigureControls(LivePanel):
    """Controls in a row, the error area under them, the figure under that.

    State for tests: ``controls`` (name -> widget), ``figure`` (the latest Figure),
    ``image`` (the Image showing it), ``last_error`` (what the last redraw raised, or None).

    Args:
        fn: called with the controls' values as keyword arguments; returns a Figure.
        controls: ipywidgets controls by the name of ``fn``'s parameter they set.
    """

    def __init__(self, fn: Callable[..., Any], controls: dict[str, widgets.Widget]) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be a function returning a Figure, got {fn!r}")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(
                    f"control {name!r} must be an ipywidgets control with a value "
                    f"(IntSlider, Dropdown, Checkbox, ...), got {type(control).__name__}"
                )
            if not control.description:
                control.description = name
        self.fn, self.controls = fn, dict(controls)
        self.figure: Any = None
        self.image = widgets.Image(format="png")
        self.image.add_class("rltutor-figure")
        row = widgets.HBox(list(self.controls.values()))
        row.add_class("rltutor-controls")
        super().__init__([row, self.image], picture=self.image,
                         css_class="rltutor-figure-controls", failure="Could not redraw.")
        self.start(self.controls.values())  # a first call that fails raises in the cell

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> None:
        """Call ``fn`` with the current values and show the Figure it returns."""
        self.refresh()

    def _refresh(self) -> None:
        fig = self.fn(**self.values())
        if hasattr(fig, "get_layout_engine") and fig.get_layout_engine() is None:
            fig.tight_layout()  # as inline figures are cropped: no axis label cut off
        self.image.value = figure_png(fig, dpi=100)
        self.figure = fig


def interact_figure(fn: Callable[..., Any], **controls: widgets.Widget) -> FigureControls:
    """A panel whose controls redraw ``fn``'s Figure; errors stay in the panel.

    Args:
        fn: a function of the controls' values that returns a matplotlib Figure.
        **controls: one ipywidgets control per parameter of ``fn`` it sets, by name
            (the names are ``fn``'s, so they cannot be listed here).

    >>> from matplotlib.figure import Figure
    >>> def line(slope):
    ...     fig = Figure(figsize=(2, 2))
    ...     fig.add_subplot().plot([0, 1], [0, slope])
    ...     return fig
    >>> panel = interact_figure(line, slope=widgets.IntSlider(1, 0, 5))
    >>> panel.controls["slope"].value = 3  # redraws
    >>> panel.figure.axes[0].lines[0].get_ydata()[-1]
    np.int64(3)
    """
    return FigureControls(fn, controls)
