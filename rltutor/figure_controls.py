"""Controls that redraw a lesson's own figure: ``interact_figure(fn, name=widget, ...)``.

``fn`` takes the controls' values as keyword arguments and returns a matplotlib Figure;
the panel shows it as a PNG in an ``ipywidgets.Image`` and redraws it whenever a
control changes. (An Image's bytes live in the widget's state, so the picture shows
even where an ``Output`` widget's captured display would not, e.g. after a fresh
"Run all" or in an exported notebook.) A failing redraw shows its error under the
figure and leaves the panel working::

    >>> panel = interact_figure(plot_fn, seed=widgets.IntSlider(0, 0, 9))  # doctest: +SKIP
    >>> panel.controls["seed"].value = 3    # redraws                       # doctest: +SKIP
    >>> panel.last_error is None                                            # doctest: +SKIP
    True
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

__all__ = ["FigureControls", "figure_png", "interact_figure"]


def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, drawn with Agg (works on figures closed in pyplot).

    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not hasattr(fig, "savefig"):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    FigureCanvasAgg(fig)  # a canvas of its own: no pyplot backend involved
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class FigureControls(widgets.VBox):
    """Controls in a row, the figure under them, an error line under that.

    State for tests: ``controls`` (name -> widget), ``figure`` (the latest Figure),
    ``last_error`` (what the last redraw raised, or None).
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
        self.last_error: BaseException | None = None
        self.image = widgets.Image(format="png")
        self.image.add_class("rltutor-figure")
        self.error = widgets.HTML()
        self.error.add_class("rltutor-error")
        wrap = widgets.Layout(flex_flow="row wrap")
        row = widgets.HBox(list(self.controls.values()), layout=wrap)
        super().__init__([row, self.image, self.error])
        self.add_class("rltutor-figure-controls")
        self.redraw()  # a first call that fails raises here: bad inputs fail in the cell
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> None:
        """Call ``fn`` with the current values and show the Figure it returns."""
        fig = self.fn(**self.values())
        self.image.value = figure_png(fig)
        self.figure = fig

    def _on_change(self, _change: Any) -> None:
        try:
            self.redraw()
        except Exception as error:  # shown in the panel: a callback must never die silently
            self.last_error = error
            self.error.value = (
                '<span style="color:#b42318">'
                f"{html.escape(type(error).__name__)}: {html.escape(str(error))}</span>"
            )
        else:
            self.last_error = None
            self.error.value = ""


def interact_figure(fn: Callable[..., Any], **controls: widgets.Widget) -> FigureControls:
    """A panel whose controls (keyword = ``fn``'s parameter) redraw ``fn``'s Figure.

    >>> interact_figure(plot_rollout_for, seed=widgets.IntSlider(0, 0, 9))  # doctest: +SKIP
    """
    return FigureControls(fn, controls)
