"""The replay-buffer picture: one cell per storage slot, dots on the slots a sample took."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import to_rgba

from rltutor.plots._picture import Picture
from rltutor.plots._style import PALETTE, ROLES
from rltutor.replay._state import TRAJ_KEY, BufferState, buffer_state, buffer_summary

__all__ = ["MAX_SLOTS", "BufferFigure", "plot_buffer"]

MAX_SLOTS = 2000  # slots drawn; a bigger buffer shows its first MAX_SLOTS
_EMPTY = to_rgba(ROLES["empty"])
# trajectories take the house palette (black left out: the sample dots are black)
_PALETTE = [to_rgba(c) for c in PALETTE if c != "#000000"]
_FILLED = to_rgba(PALETTE[0])


def _grid(capacity: int) -> tuple[int, int]:
    shown = min(capacity, MAX_SLOTS)
    cols = min(shown, 50)
    return -(-shown // cols), cols


def _colours(state: BufferState, rows: int, cols: int) -> np.ndarray:
    cells = np.tile(np.array(_EMPTY), (rows * cols, 1))
    cells[min(state.capacity, MAX_SLOTS):] = (1, 1, 1, 0)  # past the end: nothing
    shown = min(state.filled, MAX_SLOTS)
    if state.traj_ids is not None:
        ids = state.traj_ids[:shown]
        cells[:shown] = np.array(_PALETTE)[ids % len(_PALETTE)]
    else:
        cells[:shown] = _FILLED
    return cells.reshape(rows, cols, 4)


class BufferFigure(Picture):
    """One cell per storage slot, coloured by trajectory; dots on the last sample's slots.

    Redraws in place with :meth:`update` (same axes, same image, same dots).

    Args:
        state: what ``rltutor.replay.buffer_state`` returned.
        title: the first title line; ``None`` puts the buffer's summary there, ``""``
            leaves only the colour key (the widget shows the summary above the picture).
    """

    def __init__(self, state: BufferState, *, title: str | None = None) -> None:
        rows, cols = _grid(state.capacity)
        super().__init__(figsize=(8.5, 0.9 + 0.22 * rows), dpi=96)
        self._rows, self._cols, self._title = rows, cols, title
        self.ax = self.add_axes((0.03, 0.08, 0.94, 0.62 if rows < 3 else 0.72))
        self.ax.set_xticks([]), self.ax.set_yticks([])
        self.image = self.ax.imshow(_colours(state, rows, cols), aspect="auto",
                                    interpolation="nearest")
        self.dots = self.ax.scatter([], [], s=14, c="black", zorder=3)
        self.update(state)

    def update(self, state: BufferState) -> BufferFigure:
        """Redraw for ``state`` (a new fill level, a new sample).

        Args:
            state: what :func:`buffer_state` returned for the same buffer.
        """
        if _grid(state.capacity) != (self._rows, self._cols):
            raise ValueError("this figure was drawn for a buffer of another capacity")
        self.image.set_data(_colours(state, self._rows, self._cols))
        picks = np.array([], dtype=int) if state.last_sample is None else state.last_sample
        picks = picks[picks < MAX_SLOTS]
        slots, counts = np.unique(picks, return_counts=True)
        self.dots.set_offsets(np.c_[slots % self._cols, slots // self._cols]
                              if slots.size else np.empty((0, 2)))
        self.dots.set_sizes(10 + 12 * (counts - 1) if counts.size else [])
        more = f" (first {MAX_SLOTS:,} slots shown)" if state.capacity > MAX_SLOTS else ""
        head = buffer_summary(state).split(";")[0] + more if self._title is None else self._title
        key = ("colour: trajectory stored in the slot, grey: empty; dot: taken by the last "
               "sample (bigger: taken more than once)")
        lines = [line for line in (head, key) if line]
        # the alt text always says the fill level, also when the title leaves it out (the
        # widget prints the summary above the picture instead)
        self.alt = f"The slots of {buffer_summary(state)}. Key: {key}."
        self.suptitle("\n".join(lines), fontsize=8, y=0.98, va="top")
        return self



def plot_buffer(buffer: Any, *, sample: Any = None, traj_key: Any = TRAJ_KEY,
                title: str | None = None) -> BufferFigure:
    """Draw ``buffer``'s slots: filled ones coloured by trajectory, sampled ones dotted.

    Args:
        buffer: a TorchRL ``ReplayBuffer``.
        sample: the last sample (see :func:`~rltutor.replay.sample_indices`), or None.
        traj_key: the key of each step's trajectory id, or None to colour all slots alike.
        title: replaces the one-line summary at the top.

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> plot_buffer(ReplayBuffer(storage=LazyTensorStorage(20))).to_png()[:4]
    b'\\x89PNG'
    """
    return BufferFigure(buffer_state(buffer, sample=sample, traj_key=traj_key), title=title)
