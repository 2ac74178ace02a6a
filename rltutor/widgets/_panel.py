"""The base of every live panel: controls that redraw a picture, errors kept in the panel.

:class:`LivePanel` gives its subclasses one way to

* run their callback (:meth:`LivePanel.refresh`): the *first* call, from the
  constructor, raises, so bad inputs fail in the learner's cell; every later call (a
  control moved) shows the error in the panel's error area, with rltutor's fix when the
  error is a classic TorchRL mistake, and the panel keeps working;
* show a still of the picture where no widget can be drawn (a notebook exported to HTML
  without widget state): ``_repr_mimebundle_`` adds the picture as ``image/png``. The
  panel shows itself under a display id, and when code in a cell changed the picture
  (``view.update(...)`` in a later cell), it updates that display's still once, when the
  cell ends (``IPython.display.update_display``). nbclient writes such updates into the
  stored output, so an executed notebook keeps the *last* picture, as the live panel
  does. A learner moving a slider sends no update (that would redraw the widget view);
  the still follows at the end of the next cell that changes the picture;
* look the same: styles come from ``rltutor/static/panels.css``;
* be precomputed for the course site: with ``RLTUTOR_GRID_DIR`` set, a panel, once
  displayed, draws itself over a grid of its controls' values (:meth:`LivePanel.grid`)
  into that folder, and its bundle names the grid (:data:`GRID_MIME`) or says why there
  is none; ``tools/build_site.py`` turns it into HTML controls swapping the pictures.

A subclass builds its controls and its picture (an ``ipywidgets.Image``), calls
``super().__init__(children, picture=image, css_class=...)``, implements ``_refresh()``,
then calls ``self.start(controls)``.
"""

from __future__ import annotations

import base64
import itertools
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets as widgets

from rltutor._static import style_tag
from rltutor.errors import error_html, error_line
from rltutor.plots._describe import describe
from rltutor.widgets._grid import (
    GRID_CPU_BUDGET,
    GRID_DIR_ENV,
    GRID_MIME,
    MAX_SETTINGS,
    GridUnavailable,
    grid_axes,
    rng_kept,
    write_grid,
)

__all__ = ["LivePanel", "short_error"]



def short_error(exc: BaseException) -> str:
    """One readable sentence for an exception: its first line, trimmed.

    Args:
        exc: the exception.

    >>> short_error(ValueError("epsilon must be a number in [0, 1], got 1.5\\nmore"))
    'ValueError: epsilon must be a number in [0, 1], got 1.5'
    """
    return error_line(exc)  # the rule rltutor.expect_error prints by, written once


class LivePanel(widgets.VBox):
    """A VBox of controls and a picture that a callback redraws; see the module docstring.

    State for tests: ``last_error`` (what the last refresh raised, or None), ``error``
    (the error area, an ``ipywidgets.HTML`` hidden while empty).

    Args:
        children: the widgets shown, top to bottom; the first is the row of controls,
            and the error area goes right under it, where the learner is looking.
        picture: the ``ipywidgets.Image`` whose PNG is the panel's still.
        css_class: the panel's class, e.g. ``"rltutor-explorer"``.
        failure: what the error area says failed, e.g. "Could not update the rollout.".
    """

    def __init__(self, children: Sequence[widgets.Widget], *, picture: widgets.Image,
                 css_class: str, failure: str = "Could not update.") -> None:
        self.last_error: BaseException | None = None
        self.picture = picture
        self.error = widgets.HTML(layout=widgets.Layout(display="none"))
        self.error.add_class("rltutor-error")
        self._failure = failure
        self._started = False
        self._display_id: str | None = None  # set when first shown
        self._still_shown: bytes = b""  # the picture the display's still holds
        self._still_pending = False
        self._quiet = False  # set while the grid moves the controls itself
        self._grid_info: dict | None = None  # what the display bundle says of the grid
        self._draw_cpu = 0.0  # CPU seconds the first draw took
        row, *rest = children
        super().__init__([widgets.HTML(style_tag("panels.css")), row, self.error, *rest])
        self.add_class(css_class)

    def _refresh(self) -> None:
        raise NotImplementedError  # the subclass's callback

    def refresh(self) -> None:
        """Run the callback; the first call raises, later ones show errors in the panel."""
        first, clock = not self._started, time.process_time()
        self._started = True
        try:
            self._refresh()
            if first:  # what one setting costs, for the grid's budget
                self._draw_cpu = time.process_time() - clock
        except Exception as exc:  # noqa: BLE001 - a callback must never kill the panel
            if first:
                raise
            self.last_error = exc
            self.error.value = error_html(exc, self._failure)
            self.error.layout.display = None
        else:
            self.last_error = None
            self.error.value = ""
            self.error.layout.display = "none"
        self._schedule_still()

    def start(self, controls: Iterable[widgets.Widget]) -> None:
        """Draw once (raising on failure), then redraw whenever a control's value changes.

        Args:
            controls: the widgets to watch.
        """
        self.refresh()
        for control in controls:
            control.observe(self._on_change, names="value")

    def _on_change(self, _change: Any) -> None:
        if not self._quiet:
            self.refresh()

    # -- the grid the course site swaps through ------------------------------------------
    def set_controls(self, values: dict[str, Any]) -> None:
        """Set several controls, then redraw once, as one move of a slider redraws.

        Args:
            values: control name -> value; controls not named keep theirs.
        """
        controls, self._quiet = self.controls, True
        try:
            for name, value in values.items():
                controls[name].value = value
        finally:
            self._quiet = False
        self.refresh()

    def grid(self, *, max_settings: int = MAX_SETTINGS) -> dict:
        """The panel drawn by its own callback at every setting of a grid of its controls.

        Each setting is set on the controls and drawn by :meth:`refresh`, as a move in
        JupyterLab is, after the setting before it (a plot keeps axis limits its data still
        fits, as it does live); RNGs and controls are restored afterwards. Returns
        ``{"controls": [axis, ...], "pngs", "summaries", "alts", "errors", "seconds"}``, settings
        in ``itertools.product`` order over the axes; raises GridUnavailable for a panel
        with no controls or a control with no list of values.

        Args:
            max_settings: the most settings (pictures); see :func:`grid_axes`.
        """
        controls = dict(getattr(self, "controls", None) or {})  # a subclass's, by name
        if not controls:
            raise GridUnavailable("it has no controls: it shows what code feeds it (a live "
                                  "buffer, a training run), which a grid cannot capture")
        affordable = int(GRID_CPU_BUDGET / max(self._draw_cpu, 1e-3))
        if affordable < 2:
            raise GridUnavailable(f"one setting takes {self._draw_cpu:.1f} s of CPU to draw, "
                                  "too long to precompute a grid of them")
        axes = grid_axes(controls, max_settings=min(max_settings, affordable))
        if all(len(a["values"]) == 1 for a in axes.values()):  # nothing a reader could move
            raise GridUnavailable(f"one setting takes {self._draw_cpu:.1f} s of CPU to draw, "
                                  "so the budget holds one: run the notebook to move it")
        before = {name: control.value for name, control in controls.items()}
        summary, clock = getattr(self, "summary", None), (time.perf_counter(), time.process_time())
        pngs, summaries, errors, alts = [], [], [], []
        with rng_kept():
            try:
                for combo in itertools.product(*(a["values"] for a in axes.values())):
                    self.set_controls(dict(zip(axes, combo, strict=True)))
                    pngs.append(bytes(self.picture.value))
                    alts.append(self.description())
                    errors.append(None if self.last_error is None
                                  else short_error(self.last_error))
                    summaries.append(self.error.value if self.last_error is not None else
                                     summary.value if isinstance(summary, widgets.HTML) else "")
            finally:
                self.set_controls(before)
        for axis in axes.values():  # JSON holds numbers, strings and booleans only
            if not all(isinstance(v, (int, float, str, bool)) for v in axis["values"]):
                axis["values"] = axis["labels"]
        return {"controls": [{"name": n, **a} for n, a in axes.items()], "pngs": pngs,
                "summaries": summaries, "alts": alts, "errors": errors,
                "seconds": round(time.perf_counter() - clock[0], 3),  # wall, and CPU below
                "cpu_seconds": round(time.process_time() - clock[1], 3)}

    def description(self) -> str:
        """What the picture shows now, in a sentence or two: its alt text on the site."""
        fig = getattr(self, "figure", None)
        return fig.description() if hasattr(fig, "description") else (
            describe(fig) if hasattr(fig, "axes") else "")

    def _write_grid_if_asked(self) -> None:
        folder = os.environ.get(GRID_DIR_ENV)
        if not folder or self._grid_info is not None:
            return
        try:
            grid = self.grid()
            self._grid_info = {"id": write_grid(grid, folder), "settings": len(grid["pngs"]),
                               "seconds": grid["seconds"], "cpu_seconds": grid["cpu_seconds"]}
        except Exception as exc:  # noqa: BLE001 - the lesson goes on; the site keeps the still
            reason = str(exc) if isinstance(exc, GridUnavailable) else short_error(exc)
            self._grid_info = {"settings": 0, "reason": reason}

    def _ipython_display_(self) -> None:
        # Under the panel's own display id, so that its still can be updated later (a bare
        # last expression would be an execute_result, which has no display id).
        from IPython.display import display

        self._write_grid_if_asked()
        bundle = self._repr_mimebundle_()
        if bundle is None:
            return
        if self._display_id is None:
            self._display_id = uuid.uuid4().hex
        display(bundle, raw=True, display_id=self._display_id)
        self._still_shown = bytes(self.picture.value)

    def _schedule_still(self) -> None:
        """After a redraw by cell code, update the shown still once, when the cell ends."""
        if self._display_id is None or self._still_pending or self._quiet:
            return
        shell = _shell_running_a_cell()
        if shell is None:
            return
        self._still_pending = True
        shell.events.register("post_run_cell", self._send_still)

    def _send_still(self, *_result: Any) -> None:
        from IPython import get_ipython
        from IPython.display import update_display

        shell = get_ipython()
        if shell is not None:
            shell.events.unregister("post_run_cell", self._send_still)
        self._still_pending = False
        if bytes(self.picture.value) == self._still_shown:
            return
        bundle = self._repr_mimebundle_()
        if bundle is not None:
            update_display(bundle, raw=True, display_id=self._display_id)
            self._still_shown = bytes(self.picture.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.picture.value:
            # A still of the picture as shown, for places with no widget manager (a
            # notebook exported to HTML without widget state). Frontends that can draw the
            # widget rank its view above any picture, so the live panel is unaffected.
            bundle["image/png"] = base64.b64encode(bytes(self.picture.value)).decode("ascii")
            bundle["text/plain"] = self.description() or bundle.get("text/plain", "")
        if bundle is not None and self._grid_info is not None:
            bundle[GRID_MIME] = dict(self._grid_info)
        return bundle


def _shell_running_a_cell() -> Any:
    """The IPython shell when it is running a cell's code (not a widget's message), else None.

    >>> _shell_running_a_cell() is None  # no kernel here
    True
    """
    from IPython import get_ipython

    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return None
    parent = kernel.get_parent() or {}
    return shell if parent.get("header", {}).get("msg_type") == "execute_request" else None
