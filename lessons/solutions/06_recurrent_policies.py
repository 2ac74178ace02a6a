"""Solutions to lesson 06's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.collectors.utils import split_trajectories
from torchrl.envs import EnvBase
from torchrl.modules import GRUModule, set_recurrent_mode


def solve_gru_policy(pomdp_env: EnvBase) -> tuple[TensorDictSequential, EnvBase]:
    """A GRU policy reading 'position'; the env gets the GRU's primer."""
    gru = GRUModule(input_size=2, hidden_size=16, in_key="position", out_key="memory")
    head = TensorDictModule(nn.Linear(16, 1), in_keys=["memory"], out_keys=["action"])
    pomdp_env.append_transform(gru.make_tensordict_primer())
    return TensorDictSequential(gru, head), pomdp_env


def solve_side_by_side(two_episodes: TensorDictBase, policy: TensorDictSequential
                       ) -> tuple[TensorDictBase, torch.Tensor]:
    """Episodes stored one after another, replayed as a padded [episodes, time] batch."""
    with_ids = two_episodes.clone()
    # the id of a step's episode: how many episode starts came up to it
    with_ids["traj_ids"] = two_episodes["is_init"].squeeze(-1).cumsum(0)
    side_by_side = split_trajectories(with_ids, trajectory_key="traj_ids")
    with torch.no_grad(), set_recurrent_mode(True):
        return side_by_side, policy(side_by_side.clone())["memory"]
