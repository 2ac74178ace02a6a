"""The replay-buffer widget: a summary line and the buffer's picture, redrawn on ``update``.

``rltutor.replay.watch_buffer`` builds it; ``show(buffer)`` never imports it (no ipywidgets).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from rltutor._buffer_figure import BufferFigure
from rltutor._buffer_state import buffer_state, buffer_summary, summary_html
from rltutor.widgets import short_error

__all__ = ["BufferView"]


class BufferView(widgets.VBox):
    """Summary on top, the slots under it, an error line at the bottom.

    State for tests: ``figure`` (the :class:`~rltutor.replay.BufferFigure`), ``state``
    (the latest :class:`~rltutor.replay.BufferState`), ``last_error``.
    """

    def __init__(self, buffer: Any, *, traj_key: Any) -> None:
        self.buffer, self.traj_key = buffer, traj_key
        self.state = buffer_state(buffer, traj_key=traj_key)
        self.figure = BufferFigure(self.state)
        self.summary = widgets.HTML(summary_html(self.state))
        self.image = widgets.Image(format="png", value=self.figure.to_png())
        self.image.add_class("rltutor-figure")
        self.error = widgets.HTML()
        self.error.add_class("rltutor-error")
        self.last_error: BaseException | None = None
        super().__init__([self.summary, self.image, self.error])
        self.add_class("rltutor-buffer-view")

    def update(self, sample: Any = None) -> BufferView:
        """Read the buffer again and redraw; ``sample`` marks the slots it took.

        Args:
            sample: the last sample in any form ``rltutor.replay.sample_indices``
                accepts, or None. A bad one is reported in the widget, not raised.
        """
        try:
            self.state = buffer_state(self.buffer, sample=sample, traj_key=self.traj_key)
            self.figure.update(self.state)
            self.image.value = self.figure.to_png()
            self.summary.value = summary_html(self.state)
        except Exception as error:  # the panel says what went wrong; the widget lives on
            self.last_error = error
            self.error.value = (
                f'<span style="color:#b42318">{html.escape(short_error(error))}</span>'
            )
        else:
            self.last_error = None
            self.error.value = ""
        return self

    def __repr__(self) -> str:
        # what a notebook without a widget manager (or a test log) shows
        return f"BufferView({buffer_summary(self.state)})"
