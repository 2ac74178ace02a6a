"""Watch a training loop you write yourself: a progress bar and live curves, cheaply.

>>> monitor = TrainingMonitor(total_frames=100, live=False)
>>> for frames in range(10, 101, 10):
...     monitor.update(frames=frames, loss=1.0 / frames, epsilon=1 - frames / 100)
>>> monitor.update(frames=100, eval_return=42.0)
>>> monitor.close()
>>> print(monitor)
TrainingMonitor: 100 / 100 frames, best greedy return 42.0 at 100 frames, last loss 0.01

The monitor never owns the loop: the loop calls :meth:`TrainingMonitor.update` with plain
numbers, and :meth:`TrainingMonitor.close` at the end. In a notebook it shows tqdm's
notebook progress bar above one matplotlib figure (return, loss and epsilon side by
side) drawn to PNG for an ipywidgets ``Image``. The figure is made once; a redraw only
moves the data of its lines. Redraws are throttled twice: at most one every ``every``
seconds, and only while the redraws so far have used at most ``max_share`` of the time
since the monitor opened, so watching costs a few percent of training at most, however
slow the machine draws.

At :meth:`close` the live panel is replaced by a still PNG of the final curves (the
same output area, through IPython's display ids). So a notebook run with no one
watching (nbmake, nbconvert) stores one small picture rather than a stream of
redraws, an exported notebook shows the final curves, and two runs print the same.
Outside Jupyter, ``live=True`` prints ``str(monitor)`` lines (at most one every
10 s), never a panel's HTML. A NaN loss is an event: marked, counted
in ``str(monitor)``, and left out of the running mean.

Why it is not a ``rltutor.widgets.LivePanel``: a live panel is driven by its controls
(its first refresh raises, later ones show the error) and stays live after its cell;
the monitor has no control, is driven by a loop it must never interrupt (every redraw
error stays in its panel, the first one too), and ends as a still. It imports
ipywidgets only when it goes live, so ``import rltutor.training`` stays light (a test
in ``tests/test_layout.py`` keeps it so). What they share is written once: the error
area's text (``rltutor.errors.error_html``) and the PNG encoder (``rltutor._png``).
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

import numpy as np

from rltutor._png import encode_png
from rltutor._static import style_tag
from rltutor.errors import error_html

__all__ = ["TrainingMonitor", "in_notebook", "return_limits"]

_SERIES = ("eval_return", "loss", "epsilon")
_TEXT_EVERY = 10.0  # seconds between two text lines outside Jupyter: a log, not a stream


def in_notebook() -> bool:
    """``True`` inside a Jupyter kernel (where widgets can be displayed).

    >>> in_notebook()  # doctests run in a plain Python process
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the lessons' extras
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, numbers.Real):  # a tensor, an array
        size = value.numel() if hasattr(value, "numel") else getattr(value, "size", 1)
        if size != 1:
            raise ValueError(f"{name} must be one number, got a tensor of shape "
                             f"{tuple(value.shape)}; pass e.g. loss.item()")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number (int or float), got {type(value).__name__}")
    return float(value)


def return_limits(values: list[float]) -> tuple[float, float]:
    """The return axis: 0 and every value, each end in coarse steps (a power of ten,
    >= 100), so it changes rarely and the cached background stays valid.

    Args:
        values: the returns so far and the target return (any signs).

    >>> return_limits([]), return_limits([42.0, 195.0]), return_limits([-1234.5, -200.0])
    ((0.0, 100.0), (0.0, 300.0), (-2000.0, 0.0))
    """
    def coarse(value: float, rounding: Any) -> float:
        step = 10.0 ** math.floor(math.log10(max(abs(value), 100.0)))
        return float(step * rounding(value / step))

    bottom = coarse(min([0.0, *values]) * 1.05, math.floor)
    top = coarse(max([0.0, *values]) * 1.05, math.ceil)
    return bottom, top if top > bottom else bottom + 100.0


class TrainingMonitor:
    """A progress bar and return / loss / epsilon curves for a training loop.

    Args:
        total_frames: the frame budget of the run (the progress bar's 100 %), >= 1.
        title: shown above the curves.
        target_return: drawn as a dashed line on the return plot (e.g. 195 for CartPole).
        every: at least this many seconds between two redraws of the figure.
        max_share: a budget: redraw only while the redraws so far took at most this
            fraction of the time since the monitor opened (0.02: 2 %). A slow machine
            gets fewer pictures, not a slower loop.
        live: show the live panel. ``None`` (default): only inside a Jupyter kernel.
            With ``live=False`` the monitor only records; show it (or call
            :meth:`png`) to see the curves. Outside Jupyter, ``live=True`` prints text
            lines instead of a panel, at most one every 10 seconds.

    Attributes:
        history: per series (``"eval_return"``, ``"loss"``, ``"epsilon"``), a list of
            ``(frames, value)`` pairs in the order they came.
        seconds: wall time spent opening the panel (its first, slowest draw) and
            inside :meth:`update` and :meth:`close` so far: what watching cost.
        redraws: how many times the live figure was drawn.

    >>> m = TrainingMonitor(total_frames=50, live=False)
    >>> m.update(frames=10, loss=0.5, epsilon=0.9)
    >>> m.history["loss"]
    [(10, 0.5)]
    """

    def __init__(
        self,
        *,
        total_frames: int,
        title: str = "training",
        target_return: float | None = None,
        every: float = 0.5,
        max_share: float = 0.02,
        live: bool | None = None,
    ) -> None:
        if isinstance(total_frames, bool) or not isinstance(total_frames, numbers.Integral) \
                or total_frames < 1:
            raise ValueError(f"total_frames must be a whole number >= 1, got {total_frames!r}")
        if not isinstance(every, numbers.Real) or every < 0:
            raise ValueError(f"every must be a number of seconds >= 0, got {every!r}")
        if not isinstance(max_share, numbers.Real) or not 0 < max_share <= 1:
            raise ValueError(f"max_share must be a fraction in (0, 1], got {max_share!r}")
        self.total_frames = int(total_frames)
        self.title = str(title)
        self.target_return = _number(target_return, "target_return")
        self.every = float(every)
        self.max_share = float(max_share)
        self.live = in_notebook() if live is None else bool(live)
        self._terminal = self.live and not in_notebook()  # text lines, not a panel
        self.history: dict[str, list[tuple[int, float]]] = {k: [] for k in _SERIES}
        self.frames = 0
        self.seconds = 0.0
        self.redraws = 0
        self.closed = False
        self._fig = self._background = self._bar = self._panel = self._handle = None
        self._background_limits: tuple = ()
        self._lines: dict[str, Any] = {}
        self._last_draw = -math.inf
        self._draw_seconds = 0.0  # time spent redrawing during the loop
        self._opened = time.perf_counter()
        if self._terminal:  # a terminal shows text, never a widget's HTML
            self._print_line()
        elif self.live:
            self._open_panel()
        self.seconds = time.perf_counter() - self._opened  # opening counts as watching too
        self._opened = time.perf_counter()

    # -- the loop's side ------------------------------------------------------------------

    def update(
        self,
        *,
        frames: int,
        loss: Any = None,
        epsilon: Any = None,
        eval_return: Any = None,
    ) -> None:
        """Record the numbers of one iteration; redraw if it is time.

        Args:
            frames: environment frames collected so far (never decreasing).
            loss: the last loss value (a float, or a one-element tensor).
            epsilon: the exploration rate now.
            eval_return: a greedy evaluation's return, when the loop ran one.
        """
        start = time.perf_counter()
        if self.closed:
            raise RuntimeError("this TrainingMonitor is closed; make a new one for a new run")
        if isinstance(frames, bool) or not isinstance(frames, numbers.Integral) or frames < 0:
            raise ValueError(f"frames must be a whole number >= 0, got {frames!r}")
        if frames < self.frames:
            raise ValueError(f"frames went back from {self.frames} to {frames}; pass the "
                             "total number of frames collected so far, not the batch size")
        values = {"eval_return": _number(eval_return, "eval_return"),
                  "loss": _number(loss, "loss"), "epsilon": _number(epsilon, "epsilon")}
        for key, value in values.items():
            if value is not None:
                self.history[key].append((int(frames), value))
        if self._bar is not None:
            self._bar.update(int(frames) - self.frames)
        self.frames = int(frames)
        # Two throttles: a pause of `every` seconds, and a budget: redraws so far may
        # have used at most `max_share` of the time since the monitor opened.
        if self._terminal:
            if start - self._last_draw >= _TEXT_EVERY:
                self._print_line()
        elif (self.live and start - self._last_draw >= self.every
                and self._draw_seconds <= self.max_share * (start - self._opened)):
            self._redraw()
        self.seconds += time.perf_counter() - start

    def close(self) -> None:
        """Draw the final curves and, when live, leave them as a still picture."""
        start = time.perf_counter()
        if self.closed:
            return
        self.closed = True
        if self._terminal:
            self._print_line()
        elif self.live:
            self._bar.close()
            self._panel.close()  # the widgets' models go; the picture stays
            if self._handle is not None:  # None outside IPython: nothing to replace
                # the PNG and, as its description (a site's alt text), the summary line
                self._handle.update(self._repr_mimebundle_(), raw=True)
        self.seconds += time.perf_counter() - start

    def __enter__(self) -> TrainingMonitor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- what it shows ----------------------------------------------------------------------

    def best(self) -> tuple[int, float] | None:
        """``(frames, return)`` of the highest greedy return so far (the first, on ties)."""
        returns = self.history["eval_return"]
        return max(returns, key=lambda pair: pair[1]) if returns else None

    def figure(self) -> Any:
        """The monitor's figure with every recorded number drawn (made once, then updated)."""
        if self._fig is None:
            self._make_figure()
        self._draw_data()
        return self._fig

    def png(self) -> bytes:
        """The current curves as PNG bytes.

        Axes and titles are drawn once, as a background the lines are drawn on; it is
        drawn again only when an axis range changes (coarse steps: that is rare).
        """
        fig = self.figure()
        canvas = fig.canvas
        limits = tuple(ax.get_ylim() for ax in fig.axes)
        if limits != self._background_limits:
            for line in self._lines.values():
                line.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(fig.bbox)
            self._background_limits = limits
            for line in self._lines.values():
                line.set_visible(True)
        else:
            canvas.restore_region(self._background)
        for line in self._lines.values():
            line.axes.draw_artist(line)
        return encode_png(np.asarray(canvas.buffer_rgba())[..., :3])

    def nonfinite_losses(self) -> list[tuple[int, float]]:
        """``(frames, value)`` of every loss that was NaN or infinite (events, not numbers)."""
        return [pair for pair in self.history["loss"] if not math.isfinite(pair[1])]

    def __str__(self) -> str:
        text = f"TrainingMonitor: {self.frames:,} / {self.total_frames:,} frames"
        best = self.best()
        if best is not None:
            text += f", best greedy return {best[1]:.1f} at {best[0]:,} frames"
        if self.history["loss"]:
            text += f", last loss {self.history['loss'][-1][1]:.3g}"
        bad = self.nonfinite_losses()
        if bad:
            kind = "NaN" if all(math.isnan(v) for _, v in bad) else "NaN or infinite"
            text += (f", {len(bad)} {kind} loss{'es' if len(bad) > 1 else ''} (first at "
                     f"{bad[0][0]:,} frames)")
        return text

    __repr__ = __str__

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        import base64

        return {"text/plain": str(self), "image/png": base64.b64encode(self.png()).decode()}

    # -- drawing ------------------------------------------------------------------------

    def _print_line(self) -> None:
        print(str(self), flush=True)
        self._last_draw = time.perf_counter()

    def _open_panel(self) -> None:
        import ipywidgets as widgets
        from IPython.display import display
        from tqdm.notebook import tqdm

        self._bar = tqdm(total=self.total_frames, unit="frames", display=False,
                         desc=self.title, unit_scale=True)
        self._image = widgets.Image(format="png")
        self._error = widgets.HTML()
        self._error.add_class("rltutor-error")
        self._panel = widgets.VBox([widgets.HTML(style_tag("panels.css")), self._bar.container,
                                    self._image, self._error])
        # The first draw pays matplotlib's one-off costs (imports, fonts): pay them here,
        # before the loop starts, and show the empty axes at once.
        self._image.value = self.png()
        self._handle = display(self._panel, display_id=True)

    def _redraw(self) -> None:
        start = time.perf_counter()
        try:
            self._image.value = self.png()
            self._error.value = ""
        except Exception as error:  # a failed redraw must never stop the training loop
            self._error.value = error_html(error, "Redraw failed.")
        now = time.perf_counter()
        self.redraws += 1
        self._last_draw = now
        self._draw_seconds += now - start

    def _make_figure(self) -> None:
        from matplotlib.ticker import FuncFormatter, NullFormatter

        # imported here: `import rltutor.training` (evaluate, selection) stays free of matplotlib
        from rltutor.plots import PALETTE, ROLES, Picture

        fig = Picture(figsize=(10, 2.7), dpi=80)  # the house base: its own canvas, no pyplot
        fig.subplots_adjust(left=0.05, right=0.98, bottom=0.17, top=0.8, wspace=0.22)
        ret_ax, loss_ax, eps_ax = fig.subplots(1, 3)
        fig.suptitle(self.title, fontsize=11)
        line = {"color": PALETTE[0], "marker": "o", "ms": 3}
        (self._lines["eval_return"],) = ret_ax.plot([], [], **line)
        (self._lines["best"],) = ret_ax.plot([], [], "*", color=ROLES["best"], ms=12)
        title = "greedy return (\u2605 best"
        if self.target_return is not None:
            ret_ax.axhline(self.target_return, ls="--", color=ROLES["target"], lw=1)
            title += f", -- target {self.target_return:g}"
        ret_ax.set(title=title + ")", xlabel="frames")
        (self._lines["loss"],) = loss_ax.plot([], [], color=PALETTE[1], lw=0.6, alpha=0.5)
        (self._lines["loss_mean"],) = loss_ax.plot([], [], color="#8A5F00", lw=1.5)
        # a NaN loss has no height: a cross near the top of the panel, at its frames
        (self._lines["loss_nan"],) = loss_ax.plot([], [], "x", color=ROLES["explored"], ms=7, mew=2,
                                                  transform=loss_ax.get_xaxis_transform())
        loss_ax.set(title="loss (dark: mean of the last 50; \u00d7 NaN)", xlabel="frames",
                    yscale="log")
        loss_ax.yaxis.set_minor_formatter(NullFormatter())  # decades only: a calm axis
        (self._lines["epsilon"],) = eps_ax.plot([], [], color=PALETTE[4])
        eps_ax.set(title="epsilon (exploration)", xlabel="frames", ylim=(-0.03, 1.03))
        thousands = FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0")
        for ax in (ret_ax, loss_ax, eps_ax):
            ax.set_xlim(0, self.total_frames * 1.02)  # room for the last point
            if self.total_frames >= 5000:
                ax.xaxis.set_major_formatter(thousands)
            ax.tick_params(labelsize=8)
            ax.title.set_fontsize(9)
            ax.xaxis.label.set_fontsize(8)
        self._fig = fig
        self._axes = {"eval_return": ret_ax, "loss": loss_ax, "epsilon": eps_ax}

    def _draw_data(self) -> None:
        for key in _SERIES:
            pairs = self.history[key]
            self._lines[key].set_data([p[0] for p in pairs], [p[1] for p in pairs])
        loss = [pair for pair in self.history["loss"] if math.isfinite(pair[1])]
        means, total = [], 0.0
        for i, (_, value) in enumerate(loss):  # running mean over the last 50 finite losses
            total += value - (loss[i - 50][1] if i >= 50 else 0.0)
            means.append(total / min(i + 1, 50))
        self._lines["loss_mean"].set_data([p[0] for p in loss], means)
        bad = [frames for frames, _ in self.nonfinite_losses()]
        self._lines["loss_nan"].set_data(bad, [0.93] * len(bad))
        best = self.best()
        self._lines["best"].set_data([best[0]] if best else [], [best[1]] if best else [])
        returns = [v for _, v in self.history["eval_return"] if math.isfinite(v)]
        target = [] if self.target_return is None else [self.target_return]
        self._axes["eval_return"].set_ylim(*return_limits(returns + target))
        positive = [v for _, v in loss if v > 0 and math.isfinite(v)]
        if positive:
            low = 10.0 ** math.floor(math.log10(min(positive)))
            high = 10.0 ** math.ceil(math.log10(max(positive)))
            self._axes["loss"].set_ylim(low, max(high, low * 10))
