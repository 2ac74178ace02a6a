"""See inside a replay buffer: what it stores, how full it is, which slots a batch took.

Three layers, as everywhere in rltutor:

* ``_state`` reads a TorchRL ``ReplayBuffer`` into a plain :class:`BufferState`
  (storage, capacity, fill level, sampler, the trajectory of each stored slot, the slots
  of the last sample), and :func:`buffer_summary` says it in one line; ``show(buffer)``
  uses it, and only it (no matplotlib, no ipywidgets);
* :func:`plot_buffer` draws it (``_figure``): one cell per slot, coloured by the
  trajectory stored there, grey while empty, a dot on each slot the sample took;
* :func:`watch_buffer` (``_widget``) is a widget around both that a training loop
  updates as a collector adds data (``view.update(sample)``).

The picture and the widget load on first use, so ``import rltutor.replay`` (and
``show(buffer)``, which reads ``_state``) loads neither matplotlib nor ipywidgets.

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> buffer_summary(buffer_state(ReplayBuffer(storage=LazyTensorStorage(5))))
    'ReplayBuffer: LazyTensorStorage 0 / 5 slots (0%), RandomSampler, batch_size None'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rltutor._kinds import is_replay_buffer
from rltutor.replay._state import (
    TRAJ_KEY,
    BufferState,
    buffer_state,
    buffer_summary,
    check_buffer,
    sample_indices,
)

if TYPE_CHECKING:  # what the lazy names below are, for IDEs and type checkers
    from rltutor.replay._figure import BufferFigure, plot_buffer
    from rltutor.replay._widget import BufferView, watch_buffer

__all__ = ["TRAJ_KEY", "BufferFigure", "BufferState", "BufferView", "buffer_state",
           "buffer_summary", "check_buffer", "is_replay_buffer", "plot_buffer",
           "sample_indices", "watch_buffer"]

# name -> the submodule that defines it, imported on first use (matplotlib, ipywidgets)
_LAZY = {
    "BufferFigure": "rltutor.replay._figure",
    "plot_buffer": "rltutor.replay._figure",
    "BufferView": "rltutor.replay._widget",
    "watch_buffer": "rltutor.replay._widget",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rltutor.replay' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
