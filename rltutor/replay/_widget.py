"""The replay-buffer widget: a summary line and the buffer's picture, redrawn on ``update``.

:func:`watch_buffer` builds it; ``show(buffer)`` never imports it (no ipywidgets).
It is a :class:`~rltutor.widgets.LivePanel` without controls: a training loop calls
:meth:`BufferView.update` instead of a slider. Like every panel, a bad update shows its
error in the panel and the last good picture stays; exported without widget state, the
panel shows that picture as a still.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from rltutor.replay._figure import BufferFigure
from rltutor.replay._state import (
    TRAJ_KEY,
    buffer_state,
    buffer_summary,
    check_buffer,
    summary_html,
)
from rltutor.widgets import LivePanel

__all__ = ["BufferView", "watch_buffer"]


class BufferView(LivePanel):
    """Summary on top, the error area under it, the slots at the bottom.

    State for tests: ``figure`` (the :class:`~rltutor.replay.BufferFigure`),
    ``state`` (the latest :class:`~rltutor.replay.BufferState`), ``picture`` (the
    PNG shown), ``last_error`` and ``error`` (from :class:`~rltutor.widgets.LivePanel`).

    Args:
        buffer: a TorchRL ``ReplayBuffer``, read again on every :meth:`update`.
        traj_key: the key of each step's trajectory id, or None.
    """

    def __init__(self, buffer: Any, *, traj_key: Any) -> None:
        self.buffer, self.traj_key, self._sample = buffer, traj_key, None
        self.state = buffer_state(buffer, traj_key=traj_key)
        self.figure = BufferFigure(self.state, title="")  # the summary line says it above
        self.summary = widgets.HTML()
        picture = widgets.Image(format="png")
        picture.add_class("rltutor-figure")
        super().__init__([self.summary, picture], picture=picture,
                         css_class="rltutor-buffer-view", failure="Could not redraw the buffer.")
        self.refresh()  # the first draw raises: a bad buffer fails in the learner's cell

    def _refresh(self) -> None:
        state = buffer_state(self.buffer, sample=self._sample, traj_key=self.traj_key)
        if state.capacity != self.state.capacity:
            # TorchRL fixes an ndim=2 storage's size on its first write (a whole number of
            # rows of envs: 100 slots for 3 envs become 102), so the grid is drawn anew
            self.figure = BufferFigure(state, title="")
        self.figure.update(state)
        self.picture.value = self.figure.to_png()
        self.summary.value = summary_html(state)
        self.state = state

    def update(self, sample: Any = None) -> BufferView:
        """Read the buffer again and redraw; ``sample`` marks the slots it took.

        Args:
            sample: the last sample in any form ``rltutor.replay.sample_indices``
                accepts, or None. A bad one is reported in the panel, not raised.
        """
        self._sample = sample
        self.refresh()
        return self

    def __repr__(self) -> str:
        # what a notebook without a widget manager (or a test log) shows as text
        return f"BufferView({buffer_summary(self.state)})"


def watch_buffer(buffer: Any, *, traj_key: Any = TRAJ_KEY) -> BufferView:
    """A widget showing ``buffer`` that redraws when told: ``view.update(sample)``.

    Args:
        buffer: a TorchRL ``ReplayBuffer``; the widget keeps a reference and reads it
            again on every :meth:`BufferView.update`.
        traj_key: the key of each step's trajectory id, or None.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> rb = ReplayBuffer(storage=LazyTensorStorage(10), batch_size=2)
    >>> view = watch_buffer(rb)
    >>> _ = rb.extend(TensorDict(obs=torch.zeros(4, 1), batch_size=[4]))  # a collector's batch
    >>> view.update(rb.sample(return_info=True)).state.filled
    4
    """
    check_buffer(buffer)
    return BufferView(buffer, traj_key=traj_key)
