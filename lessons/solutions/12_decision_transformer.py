"""Solutions to lesson 12's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from tensordict import TensorDictBase
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.data.replay_buffers import SliceSampler

from rltutor.addons import offline


def solve_ceiling(policy: Any, start: int = 0, targets: Any = range(-800, 401, 50)) -> float:
    """Exercise 1: sweep the slider's targets from ``start`` and keep the best return earned.

    The best is a property of the start as much as of the model: from seed 3 it is about
    -108, from start 0 much lower.
    """
    earned = []
    for target in targets:
        env = offline.make_context_env(float(target), seed=start)  # make_dt_env, any start
        with torch.no_grad():
            earned.append(env.rollout(100, policy)["next", "reward"].sum().item())
    return max(earned)


def solve_slice_windows(
    data: TensorDictBase,
) -> tuple[ReplayBuffer, Callable[[TensorDictBase], TensorDictBase]]:
    """Exercise 2: single steps in the buffer, a SliceSampler cutting 16 slices of 4."""
    slice_buffer = ReplayBuffer(
        storage=LazyTensorStorage(data.numel()), batch_size=64,
        sampler=SliceSampler(slice_len=4, end_key=("next", "done")))
    slice_buffer.extend(data.reshape(-1))  # one entry per step: a stream of episodes

    def to_windows(sample: TensorDictBase) -> TensorDictBase:
        windows = sample.reshape(16, 4)  # the slices come one after the other
        for key in ("observation", "action", "return_to_go"):
            windows[f"{key}_cat"] = windows[key]  # the names the model reads; `action` stays
        return windows

    return slice_buffer, to_windows
