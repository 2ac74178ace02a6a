"""Solutions to lesson 08's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from tensordict import TensorDictBase
from torchrl.envs import EnvBase, ParallelEnv, SerialEnv

from rltutor.exercises import lesson08 as ex


def solve_best_steps(rollout_td: TensorDictBase) -> torch.Tensor:
    """Batch dims are [envs, time]: the maximum along time (dim 1), one per environment."""
    return rollout_td["next", "reward"].squeeze(-1).argmax(dim=1)


def solve_parallel_timing(make_env: Callable[[], EnvBase], policy,
                          start_method: str = "fork") -> tuple[dict, str]:
    """Time 20 steps of 4 envs, serial and parallel, cheap and slow; the start-up untimed."""
    seconds = {}
    for name, factory in (("pendulum", make_env), ("slow", ex.make_slow_pendulum)):
        for kind in ("serial", "parallel"):
            env = (SerialEnv(4, factory) if kind == "serial"
                   else ParallelEnv(4, factory, mp_start_method=start_method))
            env.reset()  # workers started before the timer
            start = time.perf_counter()
            with torch.no_grad():
                env.rollout(20, policy)
            seconds[(kind, name)] = time.perf_counter() - start
            env.close()
    return seconds, "b"
