"""Solutions to lesson 10's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from torchrl.collectors.utils import split_trajectories


def solve_gae_by_hand(reward: torch.Tensor, value: torch.Tensor, next_value: torch.Tensor,
                      done: torch.Tensor, gamma: float, lmbda: float) -> torch.Tensor:
    """One-step surprises, then lesson 09's backward sum over them, cut at episode ends."""
    alive = (~done).to(reward.dtype)
    delta = reward + gamma * next_value * alive - value
    advantage, running = torch.zeros_like(reward), torch.zeros_like(reward[0])
    for t in reversed(range(len(reward))):
        running = delta[t] + gamma * lmbda * alive[t] * running
        advantage[t] = running
    return advantage


def solve_episodes(data: TensorDictBase) -> TensorDictBase:
    """One padded row per trajectory; TorchRL writes the mask under ("collector", "mask")."""
    return split_trajectories(data, trajectory_key=("collector", "traj_ids"))
