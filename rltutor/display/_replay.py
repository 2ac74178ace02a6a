"""The view of a replay buffer: its stored data as a tree, headed by storage and sampler.

``show(buffer)`` draws what the buffer holds (the filled part of its storage, as any
TensorDict is drawn) under a head line saying the storage, the capacity and how full it
is, and the sampler. The slots of a particular sample are drawn by
``rltutor.plot_buffer`` / ``rltutor.watch_buffer``, which take the sample.
"""

from __future__ import annotations

from typing import Any

from rltutor._kinds import is_replay_buffer
from rltutor.display._nodes import Branch
from rltutor.display._options import Options
from rltutor.display._tensordict import build_tensordict
from rltutor.replay._state import buffer_state

__all__ = ["build_replay_buffer", "is_replay_buffer"]


def build_replay_buffer(buffer: Any, opts: Options) -> Branch:
    """The buffer handler: the stored TensorDict, titled with the buffer's facts.

    Args:
        buffer: a TorchRL ``ReplayBuffer``.
        opts: the view's options (``max_keys``, ``previews``, ... apply to the data).

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> build_replay_buffer(ReplayBuffer(storage=LazyTensorStorage(4)), Options()).note
    'RandomSampler, LazyTensorStorage 0/4 filled; nothing stored yet'
    """
    state = buffer_state(buffer)
    # the sampler first: a narrow text view cuts the end of this line, and the sampler's
    # name is the word that says how batches are drawn
    facts = (f"{state.sampler}, {state.storage_type} {state.filled:,}/{state.capacity:,} "
             "filled")
    stored = buffer.storage[: state.filled] if state.filled else None
    if stored is None or not hasattr(stored, "batch_size"):
        what = "nothing stored yet" if stored is None else f"holds {type(stored).__name__}"
        return Branch(key=None, type_name=state.buffer_type, batch_size=(state.filled,),
                      device=None, note=f"{facts}; {what}")
    node = build_tensordict(stored, opts)
    node.type_name = state.buffer_type
    node.note = facts
    return node
