"""Solutions to lesson 13's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.modules import (
    MLP,
    ActorCriticWrapper,
    ProbabilisticActor,
    TanhNormal,
    ValueOperator,
)


def solve_gae_by_hand(td: TensorDictBase, gamma: float, lmbda: float) -> torch.Tensor:
    """Exercise 1: GAE backwards over a stretch whose values are already in ``td``."""
    # A terminated step has no future value; any episode end (done) restarts the sum.
    not_terminated = (~td["next", "terminated"]).float()
    not_done = (~td["next", "done"]).float()
    delta = (td["next", "reward"] + gamma * not_terminated * td["next", "state_value"]
             - td["state_value"])
    advantages, running = torch.zeros_like(delta), torch.zeros_like(delta[0])
    for t in reversed(range(len(delta))):
        running = delta[t] + gamma * lmbda * not_done[t] * running
        advantages[t] = running
    return advantages


def solve_separate_agent(env) -> tuple[ActorCriticWrapper, bool]:
    """Exercise 2: actor and critic as two networks; a critic step leaves the action alone."""
    actor = ProbabilisticActor(
        TensorDictModule(nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[64, 64],
                                           activation_class=nn.Tanh),
                                       NormalParamExtractor()),
                         in_keys=["observation"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=env.action_spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": -2.0, "high": 2.0}, return_log_prob=True)
    critic = ValueOperator(MLP(in_features=3, out_features=1, num_cells=[64, 64],
                               activation_class=nn.Tanh), in_keys=["observation"])
    return ActorCriticWrapper(actor, critic), False


def solve_ratios(policy):
    """Exercise 3: the lesson's ``ratios``, bound to its ``policy``."""

    def ratios(td: TensorDictBase) -> torch.Tensor:
        with torch.no_grad():
            new_log_prob = policy.get_dist(td).log_prob(td["action"])
        return (new_log_prob - td["action_log_prob"]).exp()

    return ratios
