"""Solutions to lesson 07's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import CompositeDistribution, TensorDictModuleBase
from torch import distributions as d
from torchrl.modules import ProbabilisticActor, TanhNormal


def solve_gentle_actor(network: TensorDictModuleBase) -> ProbabilisticActor:
    """The lesson's actor with the force squashed into [0, 0.5] instead of [0, 1]."""
    return ProbabilisticActor(
        network,
        in_keys=["params"],
        out_keys=[("action", "direction"), ("action", "force")],
        distribution_class=CompositeDistribution,
        distribution_kwargs={
            "distribution_map": {"direction": d.Categorical, "force": TanhNormal},
            "name_map": {"direction": ("action", "direction"), "force": ("action", "force")},
            "extra_kwargs": {"force": {"low": 0.0, "high": 0.5}},
        },
        return_log_prob=True,
    )


def solve_flipped_log_prob(rollout_td: TensorDictBase, actor: ProbabilisticActor
                           ) -> torch.Tensor:
    """Score the other direction with the same force: ask the distribution."""
    from tensordict.nn import set_composite_lp_aggregate

    flipped = rollout_td.clone()
    flipped["action", "direction"] = 1 - flipped["action", "direction"]
    with set_composite_lp_aggregate(True), torch.no_grad():
        return actor.get_dist(flipped).log_prob(flipped)


def solve_flipped_log_prob_by_hand(rollout_td: TensorDictBase) -> torch.Tensor:
    """The same from the stored parts: two directions, so p(other) = 1 - p(taken)."""
    other = torch.log1p(-rollout_td["action", "direction_log_prob"].exp())
    return other + rollout_td["action", "force_log_prob"]
