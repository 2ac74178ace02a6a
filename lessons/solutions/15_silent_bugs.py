"""Solutions to lesson 15's exercise (plain functions; tests import this file by path)."""

from __future__ import annotations

from typing import Any

import torch
from torchrl.objectives import DQNLoss, SoftUpdate

from rltutor.exercises import lesson15 as ex


def solve_fixed_parts(seed: int = 0) -> dict[str, Any]:
    """The mystery's parts, with the target updater built on the loss that is trained.

    The mystery built ``SoftUpdate`` on a first ``DQNLoss``, then replaced that loss with
    a double-DQN one: the updater kept stepping the first loss's target copy, and the
    trained loss's copy stayed at its random start. Build the updater from the final
    loss (it copies the online weights into its target once, so it starts as before).
    """
    parts = ex.mystery_parts(seed)
    loss = DQNLoss(parts["policy"], action_space=parts["env"].action_spec, delay_value=True,
                   double_dqn=True)
    parts["loss"] = loss
    parts["optimizer"] = torch.optim.Adam(loss.parameters(), lr=ex.LR)
    parts["target_updater"] = SoftUpdate(loss, tau=0.01)
    return parts
