"""interact_figure panels show the whole figure (issue 12, item 9): the x-label is inside
the picture, and lesson 06's legend sits beside the probe plot, not on the curves."""

from __future__ import annotations

import io
from pathlib import Path

import ipywidgets as widgets
import jupytext
import matplotlib.pyplot as plt
import numpy as np
import torch

import rltutor
from rltutor.plots import PALETTE, make_picture

LESSONS = Path(__file__).resolve().parents[1] / "lessons"


def tiny_figure(seed: int = 0):
    fig, ax = plt.subplots(figsize=(4, 1.6))  # small, and no layout engine: the label falls off
    ax.plot(np.arange(10) * (seed + 1))
    ax.set(xlabel="step", ylabel="value")
    plt.close(fig)
    return fig


def test_panel_keeps_the_x_label_inside_the_picture():
    panel = rltutor.interact_figure(tiny_figure, seed=widgets.IntSlider(0, 0, 3))
    fig = panel.figure
    fig.canvas.draw()
    label = fig.axes[0].xaxis.label.get_window_extent()
    assert label.y0 >= 0 and label.x0 >= 0  # inside the figure, so inside the PNG
    raw = tiny_figure()
    raw.canvas.draw()
    assert raw.axes[0].xaxis.label.get_window_extent().y0 < 0  # what it fixes
    panel.controls["seed"].value = 2  # every redraw, not only the first
    panel.figure.canvas.draw()
    assert panel.figure.axes[0].xaxis.label.get_window_extent().y0 >= 0


def test_panel_leaves_a_figure_with_its_own_layout_alone():
    def constrained(seed: int = 0):
        fig, ax = plt.subplots(figsize=(4, 2), layout="constrained")
        ax.plot([0, seed])
        plt.close(fig)
        return fig

    panel = rltutor.interact_figure(constrained, seed=widgets.IntSlider(0, 0, 3))
    assert type(panel.figure.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"


def test_lesson06_probe_legend_is_beside_the_curves():
    nb = jupytext.read(LESSONS / "06_recurrent_policies.py")
    source = next(c.source for c in nb.cells if c.source.startswith("def plot_probes"))
    space: dict = {"make_picture": make_picture, "PALETTE": PALETTE}  # the lesson's imports
    exec(source, space)  # the lesson's plot_probes
    t = torch.linspace(0, 12, 100)
    probes = {"true ω": (3 * torch.sin(t), None), "position only": (0.3 * torch.cos(t), 0.0),
              "position + memory": (3 * torch.sin(t), 0.96)}
    fig = space["plot_probes"](probes, "title")
    fig.savefig(io.BytesIO(), format="png")  # lays the figure out
    axes_box = fig.axes[0].get_window_extent()
    legend_box = fig.axes[0].get_legend().get_window_extent()
    assert legend_box.x0 >= axes_box.x1  # beside the axes: no peak hidden under it
    assert legend_box.x1 <= fig.bbox.x1 + 1  # and inside the picture
