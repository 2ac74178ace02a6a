"""Solutions to lesson 10's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from torchrl.collectors.utils import split_trajectories


def solve_dqn_loss_by_hand(q_actor, batch: TensorDictBase, gamma: float) -> torch.Tensor:
    """Q(s, a) of the taken action against r + gamma * max Q(s', .), a fixed target."""
    q_taken = (q_actor(batch.clone())["action_value"] * batch["action"]).sum(-1)
    with torch.no_grad():  # the target is a number to chase, not a path for gradients
        q_next = q_actor(batch["next"].clone())["action_value"].max(dim=-1).values
    ended = batch["next", "terminated"].squeeze(-1)
    target = batch["next", "reward"].squeeze(-1) + gamma * q_next * (~ended)
    return (q_taken - target).pow(2).mean()


def solve_episodes(data: TensorDictBase) -> TensorDictBase:
    """One padded row per trajectory; TorchRL writes the mask under ("collector", "mask")."""
    return split_trajectories(data, trajectory_key=("collector", "traj_ids"))
