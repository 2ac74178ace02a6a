"""Solutions to lesson 06's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import EnvBase
from torchrl.modules import GRUModule, set_recurrent_mode


def solve_gru_policy(pomdp_env: EnvBase) -> tuple[TensorDictSequential, EnvBase]:
    """A GRU policy reading 'position'; the env gets the GRU's primer."""
    gru = GRUModule(input_size=2, hidden_size=16, in_key="position", out_key="memory")
    head = TensorDictModule(nn.Linear(16, 1), in_keys=["memory"], out_keys=["action"])
    pomdp_env.append_transform(gru.make_tensordict_primer())
    return TensorDictSequential(gru, head), pomdp_env


def solve_episode_replay(policy: TensorDictSequential, two_episodes: TensorDictBase
                         ) -> torch.Tensor:
    """The LSTM's output for every stored step, rebuilt in one recurrent-mode call."""
    with torch.no_grad(), set_recurrent_mode(True):
        return policy(two_episodes.clone())["memory"]
