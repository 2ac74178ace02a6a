"""See inside a replay buffer: what it stores, how full it is, which slots a batch took.

Three layers, as everywhere in rltutor:

* ``rltutor._buffer_state`` reads a TorchRL ``ReplayBuffer`` into a plain
  :class:`BufferState` (storage, capacity, fill level, sampler, the trajectory of each
  stored slot, the slots of the last sample), and :func:`buffer_summary` says it in one
  line; ``show(buffer)`` uses it;
* :func:`plot_buffer` draws it (``rltutor._buffer_figure``): one cell per slot, coloured
  by the trajectory stored there, grey while empty, a dot on each slot the sample took;
* :func:`watch_buffer` is a widget around both that a training loop updates as a
  collector adds data (``view.update(sample)``).

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> buffer_summary(buffer_state(ReplayBuffer(storage=LazyTensorStorage(5))))
    'ReplayBuffer: LazyTensorStorage 0 / 5 slots (0%), RandomSampler, batch_size None'
"""

from __future__ import annotations

from typing import Any

from rltutor._buffer_figure import BufferFigure
from rltutor._buffer_state import (
    TRAJ_KEY,
    BufferState,
    buffer_state,
    buffer_summary,
    check_buffer,
    sample_indices,
)
from rltutor._buffer_widget import BufferView
from rltutor._kinds import is_replay_buffer

__all__ = ["BufferFigure", "BufferState", "BufferView", "buffer_state", "buffer_summary",
           "is_replay_buffer", "plot_buffer", "sample_indices", "watch_buffer"]


def plot_buffer(buffer: Any, *, sample: Any = None, traj_key: Any = TRAJ_KEY,
                title: str | None = None) -> BufferFigure:
    """Draw ``buffer``'s slots: filled ones coloured by trajectory, sampled ones dotted.

    Args:
        buffer: a TorchRL ``ReplayBuffer``.
        sample: the last sample (see :func:`sample_indices`), or None.
        traj_key: the key of each step's trajectory id, or None to colour all slots alike.
        title: replaces the one-line summary at the top.

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> plot_buffer(ReplayBuffer(storage=LazyTensorStorage(20))).to_png()[:4]
    b'\\x89PNG'
    """
    return BufferFigure(buffer_state(buffer, sample=sample, traj_key=traj_key), title=title)


def watch_buffer(buffer: Any, *, traj_key: Any = TRAJ_KEY) -> BufferView:
    """A widget showing ``buffer`` that redraws when told: ``view.update(sample)``.

    Args:
        buffer: a TorchRL ``ReplayBuffer``; the widget keeps a reference and reads it
            again on every :meth:`update`.
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
