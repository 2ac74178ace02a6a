"""Solutions to lesson 05's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.envs import EnvBase
from torchrl.modules import MLP, QValueModule


def solve_qvalue_policy(env: EnvBase) -> TensorDictSequential:
    """A value network writing ``action_value``, then ``QValueModule`` taking the argmax."""
    n_obs = env.observation_spec["observation"].shape[-1]
    n_actions = env.action_spec.space.n
    net = MLP(in_features=n_obs, out_features=n_actions, num_cells=[32])
    value_net = TensorDictModule(net, in_keys=["observation"], out_keys=["action_value"])
    return TensorDictSequential(value_net, QValueModule(spec=env.action_spec))


def solve_overridden_steps(rollout_td: TensorDictBase) -> torch.Tensor:
    """True at the steps where the action taken is not the greedy one."""
    taken = rollout_td["action"].argmax(-1)
    greedy = rollout_td["action_value"].argmax(-1)
    return taken != greedy
