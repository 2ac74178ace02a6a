"""Solutions to lesson 11's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from tensordict import TensorDictBase


def solve_half_way_updates(tau: float = 0.01) -> int:
    """Exercise 1: each SoftUpdate(tau=0.01) step keeps 1 - tau = 0.99 of the remaining
    gap, so after n steps 0.99**n is left; half-way is the first n with 0.99**n < 0.5."""
    return math.ceil(math.log(0.5) / math.log(1.0 - tau))


def solve_td_target(loss_fn, gamma: float = 0.99) -> Callable[[TensorDictBase], torch.Tensor]:
    """Exercise 2: the lesson's ``td_target``, bound to its ``loss_fn``."""

    def td_target(batch: TensorDictBase) -> torch.Tensor:
        with torch.no_grad(), loss_fn.target_value_network_params.to_module(
            loss_fn.value_network
        ):
            next_values = loss_fn.value_network(batch["next"].clone())["action_value"]
        best_next = next_values.max(-1, keepdim=True).values
        # Only a real end (the pole fell) stops the bootstrap; a time limit does not.
        not_terminated = (~batch["next", "terminated"]).float()
        return batch["next", "reward"] + gamma * not_terminated * best_next

    return td_target
