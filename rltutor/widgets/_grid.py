"""The grid a live panel is precomputed over for the course site (``make site``).

:func:`control_axis` lists the values one control takes, :func:`grid_axes` cuts them
until the panel has at most :data:`MAX_SETTINGS` settings, :func:`write_grid` stores the
pictures. :meth:`rltutor.widgets.LivePanel.grid` draws them, through the panel's own
callback, inside :func:`rng_kept` (the lesson's later cells see the RNGs as they were).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch

__all__ = ["GRID_CPU_BUDGET", "GRID_DIR_ENV", "GRID_MIME", "MAX_SETTINGS", "GridUnavailable",
           "control_axis", "grid_axes", "rng_kept", "write_grid"]

GRID_DIR_ENV = "RLTUTOR_GRID_DIR"
GRID_MIME = "application/vnd.rltutor.grid+json"
MAX_SETTINGS = 24  # pictures per panel: the site's size and make site's time stay in budget
# CPU seconds one panel's grid may take, estimated from its first draw: about 20 panels
# keep make site's grids within 90 s
GRID_CPU_BUDGET = 4.5
_PER_CONTROL = 11  # values of one slider or menu before the others are cut
_NUMBERS = 3  # consecutive values of a typed number (a seed): the shown one and the next


class GridUnavailable(Exception):  # why a panel cannot be precomputed (said on the site)
    pass


def _pick(count: int, current: int, keep: int) -> list[int]:
    """At most ``keep`` of ``count`` indices, evenly spaced and through the current one."""
    if keep >= count:
        return list(range(count))
    stride = -(-(count - 1) // max(keep - 1, 1)) if keep > 1 else count
    return list(range(current % stride, count, stride))


def control_axis(control: widgets.Widget, *, keep: int = _PER_CONTROL) -> dict:
    """The values of one control a grid takes, and how the site shows the control.

    A slider gives values from ``min`` to ``max`` by ``step``, a menu its options (at most
    ``keep``, evenly spread, the current one among them), a checkbox both states, a typed
    number (a seed) the shown value and the next ones. Returns ``{"kind", "description",
    "values", "labels", "index"}`` (``index``: the current value's), plus ``min``,
    ``max`` and ``step`` for sliders and numbers.

    Args:
        control: an ipywidgets control with a value.
        keep: at most this many values.

    >>> axis = control_axis(widgets.FloatSlider(value=0.1, min=0, max=1, step=0.05,
    ...                                         description="epsilon"), keep=6)
    >>> axis["values"], axis["index"]
    ([0.1, 0.3, 0.5, 0.7, 0.9], 0)
    """
    description = getattr(control, "description", "") or ""
    value = control.value
    if isinstance(control, (widgets.Checkbox, widgets.ToggleButton)):
        values = [False, True] if keep > 1 else [bool(value)]
        return {"kind": "checkbox", "description": description, "values": values,
                "labels": ["on" if v else "off" for v in values], "index": values.index(value)}
    if hasattr(control, "options") and hasattr(control, "_options_values"):
        values, labels = list(control._options_values), list(control._options_labels)
        current = values.index(value) if value in values else 0
        kept = sorted({*range(min(keep, len(values)) - (current >= keep)), current})
        kind = "slider-choice" if isinstance(control, widgets.SelectionSlider) else "choice"
        return {"kind": kind, "description": description,
                "values": [values[i] for i in kept], "labels": [labels[i] for i in kept],
                "index": kept.index(current)}
    if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
        step = control.step or 1
        count = int(round((control.max - control.min) / step)) + 1
        every = [control.min + i * step for i in range(count)]
        if isinstance(control, widgets.FloatSlider):
            every = [round(v, 10) for v in every]
        current = min(range(count), key=lambda i: abs(every[i] - value))
        kept = _pick(count, current, keep)
        values = [every[i] for i in kept]
        values[kept.index(current)] = value
        return {"kind": "slider", "description": description, "values": values,
                "labels": [format(v, control.readout_format) for v in values],
                "index": kept.index(current), "min": control.min, "max": control.max,
                "step": step}
    if isinstance(control, (widgets.IntText, widgets.BoundedIntText)):
        top = getattr(control, "max", value + _NUMBERS)
        values = list(range(value, min(value + min(keep, _NUMBERS) - 1, top) + 1))
        return {"kind": "number", "description": description, "values": values,
                "labels": [str(v) for v in values], "index": 0, "step": 1,
                "min": getattr(control, "min", values[0]), "max": top}
    raise GridUnavailable(f"its {type(control).__name__} control {description!r} has no list "
                          "of values a grid could take")


def grid_axes(controls: dict[str, widgets.Widget], *, max_settings: int = MAX_SETTINGS,
              keep: int = _PER_CONTROL) -> dict[str, dict]:
    """One axis per control, cut until their product is at most ``max_settings``: the last
    control first (down to its current value alone), as a lesson lists its main one first.

    Args:
        controls: the panel's controls by name.
        max_settings: the most pictures the grid may hold.
        keep: at most this many values per control.

    >>> axes = grid_axes({"eps": widgets.FloatSlider(value=0.2, min=0, max=1, step=0.1),
    ...                   "seed": widgets.BoundedIntText(value=0, min=0, max=9)},
    ...                  max_settings=12)
    >>> [len(a["values"]) for a in axes.values()]
    [11, 1]
    """
    axes = {name: control_axis(control, keep=keep) for name, control in controls.items()}
    names = list(axes)
    while (total := int(np.prod([len(a["values"]) for a in axes.values()]))) > max_settings:
        name = next(n for n in reversed(names) if len(axes[n]["values"]) > 1)
        size = len(axes[name]["values"])
        others = total // size
        keep = max(1, min(size - 1, max_settings // others))
        while len((axis := control_axis(controls[name], keep=keep))["values"]) >= size:
            keep -= 1  # a stride can keep as many values as before: ask for fewer
        axes[name] = axis
    return axes


def write_grid(grid: dict, folder: str | Path) -> str:
    """Write a grid (:meth:`LivePanel.grid`) as ``folder/<id>/NNN.png`` and ``grid.json``;
    return its id, a hash of the content (a run that draws the same writes nothing new)."""
    digest = hashlib.sha256(json.dumps(grid["controls"], default=str).encode())
    grid_id = hashlib.sha256(digest.digest() + b"".join(grid["pngs"])).hexdigest()[:16]
    target = Path(folder) / grid_id
    files = [f"{i:03d}.png" for i in range(len(grid["pngs"]))]
    if not (target / "grid.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        for name, png in zip(files, grid["pngs"], strict=True):
            (target / name).write_bytes(png)
        meta = {k: v for k, v in grid.items() if k != "pngs"} | {"files": files}
        (target / "grid.json.partial").write_text(json.dumps(meta, default=str))
        (target / "grid.json.partial").replace(target / "grid.json")
    return grid_id


@contextmanager
def rng_kept() -> Iterator[None]:
    """Python's, NumPy's and torch's global RNG states restored on leaving the block.

    >>> with rng_kept():
    ...     _ = torch.rand(1)
    """
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
