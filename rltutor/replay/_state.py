"""A replay buffer read into plain values: storage, fill level, sampler, last sample.

The pure layer of ``rltutor.replay`` (no matplotlib, no ipywidgets), so that
``show(buffer)`` stays as light as every other view.

    >>> import torch
    >>> from tensordict import TensorDict
    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> rb = ReplayBuffer(storage=LazyTensorStorage(10), batch_size=4)
    >>> _ = rb.extend(TensorDict(obs=torch.zeros(6, 1), batch_size=[6]))
    >>> print(buffer_summary(buffer_state(rb, sample=torch.tensor([0, 2, 2, 5]))))
    ... # doctest: +NORMALIZE_WHITESPACE
    ReplayBuffer: LazyTensorStorage 6 / 10 slots (60%), RandomSampler, batch_size 4;
    last sample: 4 indices, 3 distinct slots
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rltutor._kinds import is_replay_buffer

__all__ = ["TRAJ_KEY", "BufferState", "buffer_state", "buffer_summary", "check_buffer",
           "sample_indices", "summary_html"]

TRAJ_KEY = ("collector", "traj_ids")  # where a TorchRL Collector writes trajectory ids


def check_buffer(buffer: Any) -> None:
    """A TypeError saying what is accepted, unless ``buffer`` is a TorchRL replay buffer.

    Args:
        buffer: anything.

    >>> check_buffer([1, 2])
    Traceback (most recent call last):
    ...
    TypeError: expected a TorchRL ReplayBuffer (ReplayBuffer, TensorDictReplayBuffer, ...), got list
    """
    if not is_replay_buffer(buffer):
        raise TypeError(
            f"expected a TorchRL ReplayBuffer (ReplayBuffer, TensorDictReplayBuffer, ...), "
            f"got {type(buffer).__name__}"
        )


def sample_indices(sample: Any, *, storage_shape: Sequence[int] = ()) -> torch.Tensor:
    """The storage slots a sample came from, as a flat int64 tensor.

    Args:
        sample: what ``buffer.sample(...)`` gave, in any of its forms: a TensorDict
            carrying ``"index"`` (``TensorDictReplayBuffer``), the pair
            ``(data, info)`` of ``sample(return_info=True)``, the ``info`` dict, a
            tensor of indices, or a tuple of index tensors (a ``SliceSampler``'s).
        storage_shape: the storage's shape when it has several dims (TorchRL's
            ``LazyTensorStorage(n, ndim=2)`` stores ``(steps, envs)``). Each item's index is
            then one number per dim, ``(row, col)``, and becomes the flat slot
            ``row * envs + col``: the order in which the picture and ``show`` lay slots out.

    >>> sample_indices(({"obs": 0}, {"index": torch.tensor([3, 1])})).tolist()
    [3, 1]
    >>> rows, cols = torch.tensor([0, 2]), torch.tensor([1, 0])
    >>> sample_indices((rows, cols), storage_shape=(5, 3)).tolist()  # (0, 1) and (2, 0)
    [1, 6]
    """
    if isinstance(sample, tuple) and len(sample) == 2 and isinstance(sample[1], dict):
        sample = sample[1]  # (data, info) from sample(return_info=True)
    if isinstance(sample, dict):
        if "index" not in sample:
            raise ValueError(f"the info dict has no 'index' entry (keys: {sorted(sample)})")
        sample = sample["index"]
    elif hasattr(sample, "keys") and hasattr(sample, "batch_size"):
        if "index" not in sample.keys():
            raise ValueError(
                "this sample carries no 'index' key: a plain ReplayBuffer does not write one. "
                "Pass what buffer.sample(return_info=True) returns (the pair), or use a "
                "TensorDictReplayBuffer, whose samples carry 'index'"
            )
        sample = sample["index"]
    if isinstance(sample, tuple) and sample and all(torch.is_tensor(s) for s in sample):
        # one index tensor per storage dim: (rows,) for a 1-d storage, (rows, cols) for 2-d
        sample = sample[0] if len(sample) == 1 else torch.stack(
            [s.reshape(-1) for s in sample], dim=-1)
        if len(storage_shape) < 2 and sample.dim() == 2:
            raise ValueError(
                f"this sample has {sample.shape[-1]} indices per item (row, col, ...): pass "
                "storage_shape, or use buffer_state(buffer, sample=...), which reads it"
            )
    if not torch.is_tensor(sample):
        raise TypeError(
            "sample must be a TensorDict with 'index', the (data, info) pair of "
            f"buffer.sample(return_info=True), an info dict or a tensor; got "
            f"{type(sample).__name__}"
        )
    sample = sample.long().cpu()
    dims = len(storage_shape)
    if dims > 1:
        if sample.dim() < 1 or sample.shape[-1] != dims:
            raise ValueError(
                f"the storage has {dims} dims {tuple(storage_shape)}, so each item's index "
                f"is {dims} numbers; got indices of shape {tuple(sample.shape)}"
            )
        strides = [1] * dims  # row-major: the last dim varies fastest
        for i in range(dims - 2, -1, -1):
            strides[i] = strides[i + 1] * int(storage_shape[i + 1])
        sample = (sample * torch.tensor(strides)).sum(-1)
    return sample.reshape(-1)


@dataclass(frozen=True)
class BufferState:
    """A replay buffer read into plain values (no torch objects but small arrays)."""

    buffer_type: str
    storage_type: str
    capacity: int
    filled: int
    sampler: str
    batch_size: int | None
    traj_ids: np.ndarray | None  # (filled,) trajectory id per stored slot, if known
    last_sample: np.ndarray | None  # flat slot indices of the last sample
    sampler_note: str = ""


def _sampler_note(sampler: Any) -> str:
    name = type(sampler).__name__
    if name == "SamplerWithoutReplacement":
        remaining = getattr(sampler, "_sample_list", None)
        if remaining is None:
            return "no pass started yet"
        return f"{int(remaining.numel())} slots not yet drawn in this pass"
    if name in ("SliceSampler", "SliceSamplerWithoutReplacement"):
        return f"slices of {sampler.slice_len} steps" if sampler.slice_len else (
            f"{sampler.num_slices} slices per batch")
    return ""


def buffer_state(buffer: Any, *, sample: Any = None, traj_key: Any = TRAJ_KEY) -> BufferState:
    """Read ``buffer`` (and optionally the sample it last gave) into a :class:`BufferState`.

    Args:
        buffer: a TorchRL ``ReplayBuffer``.
        sample: the last sample, in any form :func:`sample_indices` accepts, or None.
        traj_key: the key holding each step's trajectory id (a Collector writes
            ``("collector", "traj_ids")``); slots are coloured by it when present. Left
            at that default, a ``SliceSampler(traj_key=...)``'s own key comes first.

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> buffer_state(ReplayBuffer(storage=LazyTensorStorage(5))).filled
    0
    """
    check_buffer(buffer)
    storage = buffer.storage
    filled = len(storage)  # slots: rows x envs for a storage with ndim=2
    # ndim=2 (a batch of envs side by side): slot (row, col) is flat slot row * envs + col
    shape = tuple(storage.shape) if filled and getattr(storage, "ndim", 1) > 1 else ()
    traj_ids = None
    if filled and traj_key is not None:
        keys = [traj_key]
        if traj_key == TRAJ_KEY:  # a SliceSampler(traj_key=...) names where its ids live
            sampler_key = getattr(buffer.sampler, "traj_key", None)
            if isinstance(sampler_key, (str, tuple)):
                keys.insert(0, sampler_key)
        try:
            stored = storage[:filled]
            present = [k for k in keys if k in stored.keys(include_nested=True)]
            if present:
                traj_ids = stored[present[0]].reshape(filled, -1)[:, 0].cpu().numpy()
        except Exception:  # a storage of non-TensorDict data: no ids to colour by
            traj_ids = None
    last = None if sample is None else sample_indices(sample, storage_shape=shape).numpy()
    if last is not None and last.size and (last.max() >= max(filled, 1) or last.min() < 0):
        raise ValueError(
            f"the sample's indices run from {last.min()} to {last.max()}, but the buffer "
            f"holds {filled} entries: was this sample drawn from another buffer?"
        )
    return BufferState(
        buffer_type=type(buffer).__name__,
        storage_type=type(storage).__name__,
        capacity=int(storage.max_size),
        filled=filled,
        sampler=type(buffer.sampler).__name__,
        batch_size=buffer.batch_size,
        traj_ids=traj_ids,
        last_sample=last,
        sampler_note=_sampler_note(buffer.sampler),
    )


def buffer_summary(state: BufferState) -> str:
    """The state in one line: storage, fill level, sampler, last sample.

    Args:
        state: what :func:`buffer_state` returned.

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> buffer_summary(buffer_state(ReplayBuffer(storage=LazyTensorStorage(5))))
    'ReplayBuffer: LazyTensorStorage 0 / 5 slots (0%), RandomSampler, batch_size None'
    """
    share = 100 * state.filled / state.capacity if state.capacity else 0
    text = (f"{state.buffer_type}: {state.storage_type} {state.filled:,} / "
            f"{state.capacity:,} slots ({share:.0f}%), {state.sampler}")
    if state.sampler_note:
        text += f" ({state.sampler_note})"
    text += f", batch_size {state.batch_size}"
    if state.traj_ids is not None and state.filled:
        text += f", {len(np.unique(state.traj_ids))} trajectories"
    if state.last_sample is not None:
        distinct = len(np.unique(state.last_sample))
        text += (f"; last sample: {state.last_sample.size} indices, {distinct} distinct "
                 f"slot{'s' if distinct != 1 else ''}")
    return text


def summary_html(state: BufferState) -> str:
    """The one-line summary as a small HTML block (used by the widget).

    Args:
        state: what :func:`buffer_state` returned.

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> summary_html(buffer_state(ReplayBuffer(storage=LazyTensorStorage(5))))[:30]
    '<div class="rltutor-buffer">Re'
    """
    return (f'<div class="rltutor-buffer">'
            f"{html.escape(buffer_summary(state))}</div>")
