"""Solutions to lesson 10's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.data.replay_buffers import SliceSampler


def solve_sac_batch_keys() -> set[str]:
    """What a SAC batch must hold: the step taken and what the environment answered."""
    return {"observation", "action",
            "next.observation", "next.reward", "next.done", "next.terminated"}


def solve_sequence_buffer() -> ReplayBuffer:
    """Room for 1,000 steps; each sample is 5 slices of 6 steps of one trajectory."""
    return ReplayBuffer(storage=LazyTensorStorage(1000), batch_size=30,
                        sampler=SliceSampler(slice_len=6, traj_key=("collector", "traj_ids")))
