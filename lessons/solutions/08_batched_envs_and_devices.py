"""Solutions to lesson 08's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from tensordict import TensorDictBase
from torchrl.collectors import Collector
from torchrl.envs import EnvBase, SerialEnv


def solve_env2_rewards(rollout_td: TensorDictBase) -> torch.Tensor:
    """Batch dims are [envs, time]: row 2 is environment 2."""
    return rollout_td["next", "reward"][2]


def solve_collector(make_env: Callable[[], EnvBase], policy) -> Collector:
    """4 environments x 20 steps = 80 frames per batch, 2 batches; transforms decided."""
    return Collector(SerialEnv(4, make_env), policy, frames_per_batch=80, total_frames=160,
                     auto_register_policy_transforms=True)
