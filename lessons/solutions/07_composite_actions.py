"""Solutions to lesson 07's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import (
    CompositeDistribution,
    TensorDictModule,
    TensorDictModuleBase,
    TensorDictSequential,
)
from torch import distributions as d
from torch import nn
from torchrl.modules import ProbabilisticActor


def solve_beta_actor(body: TensorDictModuleBase, direction_head: TensorDictModuleBase
                     ) -> ProbabilisticActor:
    """The lesson's body and direction head; the force from a Beta on [0, 1].

    CompositeDistribution calls ``d.Beta(**params["force"])``, so the head writes Beta's
    own argument names, each through a softplus to keep it positive.
    """
    force_heads = [
        TensorDictModule(nn.Sequential(nn.Linear(32, 1), nn.Softplus()), in_keys=["hidden"],
                         out_keys=[("params", "force", name)])
        for name in ("concentration1", "concentration0")
    ]
    return ProbabilisticActor(
        TensorDictSequential(body, direction_head, *force_heads),
        in_keys=["params"],
        out_keys=[("action", "direction"), ("action", "force")],
        distribution_class=CompositeDistribution,
        distribution_kwargs={
            "distribution_map": {"direction": d.Categorical, "force": d.Beta},
            "name_map": {"direction": ("action", "direction"), "force": ("action", "force")},
        },
        return_log_prob=True,
    )


def solve_flipped_log_prob(rollout_td: TensorDictBase) -> torch.Tensor:
    """From the stored parts: two directions, so p(other) = 1 - p(taken); the force's
    log-probability is unchanged, and the whole action's is the sum of the parts'."""
    other = torch.log1p(-rollout_td["action", "direction_log_prob"].exp())
    return other + rollout_td["action", "force_log_prob"]


def solve_flipped_log_prob_by_distribution(rollout_td: TensorDictBase,
                                           actor: ProbabilisticActor) -> torch.Tensor:
    """The same by asking the distribution to score the flipped action."""
    from tensordict.nn import set_composite_lp_aggregate

    flipped = rollout_td.clone()
    flipped["action", "direction"] = 1 - flipped["action", "direction"]
    with set_composite_lp_aggregate(True), torch.no_grad():
        return actor.get_dist(flipped).log_prob(flipped)
