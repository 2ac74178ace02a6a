"""The explorable widgets of the course site: precomputed grids as plain HTML controls.

A live panel run with ``RLTUTOR_GRID_DIR`` set (``rltutor/widgets/_panel.py``) draws
itself over a grid of its controls' values, writes the pictures and a ``grid.json`` to
``<grid dir>/<id>/``, and names the grid in its display bundle
(``application/vnd.rltutor.grid+json``). Here each such output becomes the same
controls as HTML (a range input per slider, a menu per dropdown, a checkbox, a number
field), the picture and the summary, and a label; ``static/explorable.js`` (a few lines,
no library) swaps the precomputed picture and summary when a control moves, snapping a
value between grid points to the nearest one. The pictures are files under
``grids/<id>/``, so a page opens from disk and over HTTP alike and loads nothing else.

A panel with no grid (no controls: it shows what code feeds it, a live buffer or a
training run) keeps its still, and the page says why.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat

GRID_MIME = "application/vnd.rltutor.grid+json"  # as rltutor.widgets._panel.GRID_MIME
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATIC = Path(__file__).resolve().parent / "site_template" / "rltutor_site"
_PANELS = re.compile(r"\b(?:explorer|interact_figure|watch_buffer)\(")
_REPR = re.compile(r"^[A-Za-z_]\w*\(\w+=")  # ipywidgets' repr: VBox(children=(...))
_NOT_ALT = ("<Figure size", "<matplotlib", "<IPython", "No description")


def alt_text(data: dict) -> str:
    """The description an output carries beside its picture (``text/plain``), or ``""``.

    A bare matplotlib or IPython repr, or a widget's Python repr, is not a description.

    Args:
        data: an output's mimebundle.

    >>> alt_text({"image/png": "...", "text/plain": "Plot of reward against step."})
    'Plot of reward against step.'
    >>> alt_text({"image/png": "...", "text/plain": "<Figure size 640x480 with 1 Axes>"})
    ''
    >>> alt_text({WIDGET_VIEW: {}, "text/plain": "VBox(children=(HTML(value=''),))"})
    ''
    """
    text = data.get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    text = text.strip()
    if not text or text.startswith(_NOT_ALT) or (WIDGET_VIEW in data and _REPR.match(text)):
        return ""
    return text


def setting_text(controls: list[dict], index: int) -> str:
    """The setting at flat ``index`` of a grid, in words: ``"epsilon 0.30, seed 1"``.

    Args:
        controls: the grid's axes, in order (the last one varies fastest).
        index: the setting's position in the grid.

    >>> setting_text([{"description": "eps", "labels": ["0.0", "0.5"]},
    ...               {"description": "seed", "labels": ["0", "1", "2"]}], 4)
    'eps 0.5, seed 1'
    """
    parts = []
    for axis in reversed(controls):
        index, i = divmod(index, len(axis["labels"]))
        parts.append(f"{axis['description'] or axis['name']} {axis['labels'][i]}")
    return ", ".join(reversed(parts))


def _control_html(axis: dict, position: int) -> str:
    name = html.escape(axis.get("description") or axis["name"])
    index, labels = axis["index"], axis["labels"]
    fixed = len(labels) == 1
    attrs = f'data-axis="{position}" aria-label="{name}"' + (" disabled" if fixed else "")
    kind = axis["kind"]
    if kind == "checkbox":
        checked = " checked" if axis["values"][index] else ""
        field = f'<input type="checkbox" {attrs}{checked}>'
    elif kind == "choice":
        options = "".join(f'<option value="{i}"{" selected" if i == index else ""}>'
                          f"{html.escape(str(label))}</option>"
                          for i, label in enumerate(labels))
        field = f"<select {attrs}>{options}</select>"
    elif kind == "slider-choice":
        field = (f'<input type="range" min="0" max="{len(labels) - 1}" step="1" '
                 f'value="{index}" {attrs}>')
    else:  # slider or number: the control's own range; values between grid points snap
        kind_attr = "range" if kind == "slider" else "number"
        field = (f'<input type="{kind_attr}" min="{axis["min"]}" max="{axis["max"]}" '
                 f'step="{axis["step"]}" value="{axis["values"][index]}" {attrs}>')
    readout = (f'<output class="rlt-explorable-readout">{html.escape(str(labels[index]))}'
               "</output>") if kind in ("slider", "slider-choice") else ""
    note = ' title="fixed on the site: run the notebook to change it"' if fixed else ""
    return f'<label class="rlt-explorable-control"{note}>{name} {field}{readout}</label>'


def explorable_html(meta: dict, *, folder: str, still_alt: str) -> str:
    """The HTML of one explorable panel: controls, label, summary, picture, its data.

    Args:
        meta: the grid's ``grid.json`` (controls, files, summaries, alts).
        folder: where the pictures are, relative to the page (``"grids/<id>/"``).
        still_alt: the description of the lesson's still, for settings that carry none.
    """
    controls = meta["controls"]
    start = 0
    for axis in controls:
        start = start * len(axis["labels"]) + axis["index"]
    count = len(meta["files"])
    alts = [f"{alt or still_alt or 'The widget’s picture.'} Setting: {setting_text(controls, i)}."
            for i, alt in enumerate(meta.get("alts") or [""] * count)]
    data = {"controls": [{"kind": a["kind"], "values": a["values"], "labels": a["labels"]}
                         for a in controls],
            "files": [folder + f for f in meta["files"]], "summaries": meta["summaries"],
            "alts": alts}
    row = "".join(_control_html(axis, i) for i, axis in enumerate(controls))
    payload = json.dumps(data).replace("</", "<\\/")
    return (
        f'<div class="rlt-explorable" data-setting="{start}">'
        f'<div class="rlt-explorable-controls">{row}</div>'
        f'<div class="rlt-explorable-label">precomputed: {count} settings; '
        "run the notebook for any value</div>"
        f'<div class="rlt-explorable-summary">{meta["summaries"][start]}</div>'
        f'<img class="rlt-explorable-picture" src="{data["files"][start]}" '
        f'alt="{html.escape(alts[start])}">'
        f'<script type="application/json" class="rlt-explorable-data">{payload}</script>'
        "</div>"
    )


def site_picture(png: Path) -> Path:
    """The site's copy of a grid picture: 256 colours, no dithering (about 2.5 times
    smaller; a plot has few colours), made once and kept beside the original.

    Args:
        png: a picture of a grid, as the panel drew it.
    """
    from PIL import Image

    small = png.parent / "site" / png.name
    if not small.exists():
        small.parent.mkdir(exist_ok=True)
        with Image.open(png) as image:
            palette = image.convert("RGB").quantize(
                colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        palette.save(small.with_suffix(".partial"), "PNG", optimize=True)
        small.with_suffix(".partial").replace(small)
    return small


def make_explorable(nb: nbformat.NotebookNode, *, grids: Path, out: Path) -> dict:
    """Turn every gridded panel output of ``nb`` into an explorable; copy its pictures.

    An output whose grid is missing (or that has none) keeps its still, and its
    ``metadata["rltutor_still"]`` says why, for the page.

    Args:
        nb: an executed lesson, changed in place.
        grids: the grid directory the lesson ran with.
        out: the site folder (pictures go to ``out/grids/<id>/``).

    Returns:
        ``{"explorable": n, "settings": n, "seconds": s, "cpu_seconds": s,
        "stills": [reason, ...]}`` (the grids' render time, wall clock and CPU).
    """
    report = {"explorable": 0, "settings": 0, "seconds": 0.0, "cpu_seconds": 0.0,
              "stills": []}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            info = output.get("data", {}).get(GRID_MIME)
            if info is None:
                continue
            source = grids / str(info.get("id", "")) / "grid.json"
            if not info.get("id") or not source.is_file():
                reason = info.get("reason") or "its precomputed pictures are missing"
                output.metadata["rltutor_still"] = reason
                report["stills"].append(reason)
                continue
            meta = json.loads(source.read_text())
            target = out / "grids" / info["id"]
            target.mkdir(parents=True, exist_ok=True)
            for name in meta["files"]:
                shutil.copyfile(site_picture(source.parent / name), target / name)
            still_alt = alt_text(output.data)
            output.data = {"text/html": explorable_html(
                meta, folder=f"grids/{info['id']}/", still_alt=still_alt)}
            report["explorable"] += 1
            report["settings"] += len(meta["files"])
            # this run's time (the bundle's): an identical grid from an earlier run is reused
            report["seconds"] += float(info.get("seconds", 0.0))
            report["cpu_seconds"] += float(info.get("cpu_seconds", info.get("seconds", 0.0)))
    return report


def has_grid_info(nb: nbformat.NotebookNode) -> bool:
    """Whether a run of a lesson was made with grids on (some output names its grid).

    Args:
        nb: an executed notebook.
    """
    return any(GRID_MIME in output.get("data", {})
               for cell in nb.cells for output in cell.get("outputs", []))


def grids_are_current(nb: nbformat.NotebookNode, *, grids: Path) -> bool:
    """Whether a run of a lesson made its panels' grids and they are all in ``grids``.

    A lesson with no panel needs none.

    Args:
        nb: an executed lesson.
        grids: the grid directory.

    >>> grids_are_current(nbformat.v4.new_notebook(), grids=Path("nowhere"))
    True
    """
    if not any(cell.cell_type == "code" and _PANELS.search(cell.source) for cell in nb.cells):
        return True
    if not has_grid_info(nb):
        return False
    ids = [output.data[GRID_MIME].get("id") for cell in nb.cells
           for output in cell.get("outputs", []) if GRID_MIME in output.get("data", {})]
    return all((grids / i / "grid.json").is_file() for i in ids if i)


def write_static(out: Path) -> None:
    """The explorables' script and the favicon, into ``out/static/``.

    Args:
        out: the site folder.
    """
    for name in ("explorable.js", "favicon.svg"):
        shutil.copyfile(STATIC / name, out / "static" / name)
