"""Solutions to lesson 09's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.envs import EnvBase
from torchrl.modules import (MLP, ActorValueOperator, OneHotCategorical, ProbabilisticActor,
                             ValueOperator)


def solve_shared_agent(env: EnvBase) -> ActorValueOperator:
    """A trunk writing ``features``; a categorical policy head and a value head read it."""
    n_obs = env.observation_spec["observation"].shape[-1]
    n_actions = env.action_spec.space.n
    trunk = TensorDictModule(MLP(in_features=n_obs, out_features=32, num_cells=[32]),
                             in_keys=["observation"], out_keys=["features"])
    policy_head = ProbabilisticActor(
        TensorDictModule(nn.Linear(32, n_actions), in_keys=["features"], out_keys=["logits"]),
        in_keys=["logits"], distribution_class=OneHotCategorical, spec=env.action_spec,
        return_log_prob=True)
    value_head = ValueOperator(nn.Linear(32, 1), in_keys=["features"])
    return ActorValueOperator(trunk, policy_head, value_head)


def solve_return_to_go(rollout_td: TensorDictBase, gamma: float) -> torch.Tensor:
    """Backwards through time; an episode end cuts the sum (nothing after it counts).

    The flag is ``("next", "done")``: written with the step's result. The root ``done``
    belongs to the step's start and is False after every automatic reset.
    """
    rewards, ended = rollout_td["next", "reward"], rollout_td["next", "done"]
    returns, running = torch.zeros_like(rewards), torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        running = torch.where(ended[t], rewards[t], rewards[t] + gamma * running)
        returns[t] = running
    return returns
