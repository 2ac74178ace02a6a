"""interact_figure (rltutor/widgets.py): controls redraw a figure; errors stay in the panel."""

from __future__ import annotations

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure

from rltutor.widgets import figure_png, interact_figure


def line_plot(slope: int = 1, label: str = "a") -> Figure:
    if slope < 0:
        raise ValueError("slope must be >= 0")
    fig = Figure(figsize=(2, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, slope], label=label)
    return fig


def test_figure_png_is_a_png() -> None:
    assert figure_png(line_plot()).startswith(b"\x89PNG")
    with pytest.raises(TypeError, match="matplotlib Figure"):
        figure_png("not a figure")


def test_moving_a_control_redraws() -> None:
    panel = interact_figure(line_plot, slope=widgets.IntSlider(1, -3, 5))
    first = panel.image.value
    assert bytes(first).startswith(b"\x89PNG") and panel.controls["slope"].description == "slope"
    panel.controls["slope"].value = 4
    assert panel.image.value != first
    assert panel.figure.axes[0].lines[0].get_ydata()[-1] == 4


def test_a_failing_redraw_shows_the_error_and_keeps_working() -> None:
    panel = interact_figure(line_plot, slope=widgets.IntSlider(1, -3, 5))
    shown = panel.image.value
    panel.controls["slope"].value = -1
    assert isinstance(panel.last_error, ValueError)
    assert "slope must be &gt;= 0" in panel.error.value or "slope must be >= 0" in panel.error.value
    assert panel.image.value == shown  # the last good figure stays
    panel.controls["slope"].value = 2
    assert panel.last_error is None and panel.error.value == ""


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="control 'slope'"):
        interact_figure(line_plot, slope=3)
    with pytest.raises(TypeError, match="function"):
        interact_figure(None, slope=widgets.IntSlider())
    with pytest.raises(ValueError, match="slope"):  # first draw fails in the cell
        interact_figure(line_plot, slope=widgets.IntSlider(-1, -3, 5))


def test_old_module_and_top_level_name_still_work() -> None:
    import rltutor
    from rltutor import figure_controls

    assert figure_controls.interact_figure is interact_figure is rltutor.interact_figure
