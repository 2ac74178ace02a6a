"""A live panel drawn over a grid of its controls (rltutor/widgets/_panel.py), for the site.

The site's explorables show these pictures; each must be the picture the live widget
draws at that setting, by its own callback.
"""

from __future__ import annotations

import json
import random

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torchrl.data import LazyTensorStorage, ReplayBuffer

import rltutor
from rltutor.widgets import _grid
from rltutor.widgets._grid import GridUnavailable, control_axis, grid_axes, write_grid


def _line(slope: float, dashed: bool = False) -> Figure:
    fig = Figure(figsize=(2, 1.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, slope], ls="--" if dashed else "-")
    ax.set_ylim(-5, 5)
    ax.set_ylabel("height")
    return fig


def _panel_of_line(*, cheap: bool = True) -> rltutor.widgets.FigureControls:
    panel = rltutor.interact_figure(
        _line, slope=widgets.FloatSlider(value=1.0, min=-2.0, max=2.0, step=0.5),
        dashed=widgets.Checkbox(False))
    # The grid's budget divides by the first draw's CPU time, which a busy machine
    # stretches (one CI run measured 0.25 s and got 9 settings, not 18). These tests are
    # about a cheap panel; the budget's own tests set costly times themselves.
    if cheap:
        panel._draw_cpu = 0.01
    return panel


def test_a_slider_gives_its_values_through_the_current_one_evenly_spaced() -> None:
    axis = control_axis(widgets.IntSlider(value=16, min=2, max=64, step=2), keep=11)
    assert axis["values"] == [8, 16, 24, 32, 40, 48, 56, 64] and axis["index"] == 1
    assert axis["kind"] == "slider" and (axis["min"], axis["max"], axis["step"]) == (2, 64, 2)
    small = control_axis(widgets.FloatSlider(value=0.1, min=0, max=1, step=0.05), keep=11)
    assert small["values"] == pytest.approx([i / 10 for i in range(11)])
    assert small["labels"][1] == "0.10"


def test_menus_checkboxes_and_seeds_give_their_choices() -> None:
    menu = widgets.Dropdown(options=["deterministic", "random", "mode", "mean", "median"],
                            value="median")
    axis = control_axis(menu, keep=4)
    assert axis["values"] == ["deterministic", "random", "mode", "median"]
    assert axis["values"][axis["index"]] == "median"
    assert control_axis(widgets.Checkbox(True))["values"] == [False, True]
    seed = control_axis(widgets.BoundedIntText(value=4, min=0, max=5))
    assert seed["values"] == [4, 5] and seed["kind"] == "number"
    with pytest.raises(GridUnavailable, match="Text control 'name'"):
        control_axis(widgets.Text("x", description="name"))


def test_the_grid_cuts_the_last_controls_first_to_stay_under_its_cap() -> None:
    controls = {"epsilon": widgets.FloatSlider(value=0.5, min=0, max=1, step=0.05),
                "exploration": widgets.Dropdown(options=list("abcde"), value="b"),
                "seed": widgets.BoundedIntText(value=0, min=0, max=9),
                "steps": widgets.IntSlider(value=100, min=10, max=1000, step=10)}
    axes = grid_axes(controls, max_settings=48)
    assert {n: len(a["values"]) for n, a in axes.items()} == {
        "epsilon": 11, "exploration": 4, "seed": 1, "steps": 1}
    assert axes["steps"]["values"] == [100] and axes["seed"]["values"] == [0]


def test_a_grid_point_is_the_picture_the_live_widget_draws_at_those_values() -> None:
    grid = _panel_of_line().grid()
    assert [len(a["values"]) for a in grid["controls"]] == [9, 2]
    slope, dashed = grid["controls"]
    i, j = 6, 1  # slope 1.0, dashed
    live = rltutor.interact_figure(
        _line, slope=widgets.FloatSlider(value=-2.0, min=-2.0, max=2.0, step=0.5),
        dashed=widgets.Checkbox(False))
    live.controls["slope"].value = slope["values"][i]  # two moves, as a reader makes them
    live.controls["dashed"].value = dashed["values"][j]
    assert grid["pngs"][i * 2 + j] == bytes(live.image.value)
    assert grid["pngs"][i * 2 + j] != grid["pngs"][i * 2]  # the setting shows
    assert grid["alts"][0] == "Plot of height."


def test_an_explorer_grid_is_what_its_slider_moves_draw(cartpole) -> None:
    def make():
        torch.manual_seed(0)
        policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(cartpole), cartpole, eps=0.3)
        return rltutor.explorer(cartpole, policy, controls=("epsilon",), steps=30)

    grid = make().grid(max_settings=4)
    epsilons = grid["controls"][0]["values"]
    assert epsilons == pytest.approx([0.3, 0.65, 1.0])  # every 7th of 0, 0.05, ..., 1
    live = make()
    for eps, png, summary in zip(epsilons, grid["pngs"], grid["summaries"], strict=True):
        live.controls["epsilon"].value = eps  # one slider move at a time, in grid order
        assert png == bytes(live.plot.value)
        assert summary == live.summary.value
    assert len(set(grid["pngs"])) == 3


def test_the_grid_leaves_the_panel_and_the_random_state_as_they_were() -> None:
    panel = _panel_of_line()
    panel.controls["slope"].value = 0.5
    still = bytes(panel.image.value)
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    panel.grid()
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected
    assert panel.values() == {"slope": 0.5, "dashed": False}
    assert bytes(panel.image.value) == still


def test_a_setting_that_fails_is_kept_with_its_error_and_the_panel_goes_on() -> None:
    def fussy(slope: float) -> Figure:
        if slope > 1:
            raise ValueError(f"slope must be at most 1, got {slope}")
        return _line(slope)

    panel = rltutor.interact_figure(fussy, slope=widgets.FloatSlider(value=0, min=0, max=2, step=1))
    grid = panel.grid()
    assert grid["errors"][:2] == [None, None]
    assert grid["errors"][2] == "ValueError: slope must be at most 1, got 2.0"
    assert "slope must be at most 1" in grid["summaries"][2]
    assert panel.last_error is None  # restored to a setting that draws


def test_a_panel_without_controls_says_why_it_has_no_grid(tmp_path, monkeypatch) -> None:
    view = rltutor.watch_buffer(ReplayBuffer(storage=LazyTensorStorage(8)))
    with pytest.raises(GridUnavailable, match="no controls"):
        view.grid()
    monkeypatch.setenv(_grid.GRID_DIR_ENV, str(tmp_path))
    view._write_grid_if_asked()
    bundle = view._repr_mimebundle_()
    assert bundle[_grid.GRID_MIME]["settings"] == 0
    assert "live buffer" in bundle[_grid.GRID_MIME]["reason"]


def test_a_displayed_panel_writes_its_grid_and_names_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(_grid.GRID_DIR_ENV, str(tmp_path))
    panel = _panel_of_line()
    panel._write_grid_if_asked()
    info = panel._repr_mimebundle_()[_grid.GRID_MIME]
    meta = json.loads((tmp_path / info["id"] / "grid.json").read_text())
    assert info["settings"] == len(meta["files"]) == 18
    assert (tmp_path / info["id"] / meta["files"][0]).read_bytes()[:4] == b"\x89PNG"
    assert meta["controls"][0]["name"] == "slope" and len(meta["summaries"]) == 18
    assert panel._repr_mimebundle_()["text/plain"] == "Plot of height."
    again = _panel_of_line().grid()
    assert write_grid(again, tmp_path) == info["id"]  # same pictures, same id


def test_a_costly_panel_gets_fewer_settings_and_a_very_costly_one_none() -> None:
    panel = _panel_of_line(cheap=False)
    assert panel._draw_cpu > 0  # the first draw was timed
    panel._draw_cpu = _grid.GRID_CPU_BUDGET / 5  # five settings fit the budget
    assert len(panel.grid()["pngs"]) <= 5
    panel._draw_cpu = _grid.GRID_CPU_BUDGET  # one setting would take all of it
    with pytest.raises(GridUnavailable, match="too long to precompute"):
        panel.grid()


def test_a_budget_that_holds_one_setting_keeps_the_still() -> None:
    panel = _panel_of_line()
    panel._draw_cpu = _grid.GRID_CPU_BUDGET / 2.5  # two settings fit: the cut leaves one
    with pytest.raises(GridUnavailable, match="budget holds one"):
        panel.grid()
