"""Checks for lesson 07 (composite actions with CompositeDistribution).

    >>> from rltutor.exercises import lesson07 as ex
    >>> ex.check_gentle_actor(None, None).status
    'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_gentle_actor", "check_joint_log_prob"]

MAX_FORCE = 0.5
PARTS = ("direction", "force")


@exercise("set `my_actor` to a ProbabilisticActor whose force stays in [0, 0.5]")
def check_gentle_actor(my_actor: Any, env: Any) -> Feedback:
    """Does ``my_actor`` write both action parts, their log-probs, and push at most 0.5?

    >>> check_gentle_actor(actor, PuckEnv()).status  # doctest: +SKIP
    'correct'
    """
    from torchrl.envs import ExplorationType, set_exploration_type

    if not isinstance(my_actor, TensorDictModuleBase):
        return wrong(f"my_actor is a {type(my_actor).__name__}, not a TensorDict module",
                     "build a ProbabilisticActor(network, in_keys=['params'], ...)")
    env.set_seed(0)
    td = env.reset().expand(500).clone()  # 500 copies of one state: many samples at once
    with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        out = my_actor(td)
    keys = set(out.keys(True, True))
    for part in PARTS:
        if ("action", part) not in keys:
            loose = [k for k in keys if (k[-1] if isinstance(k, tuple) else k) == part]
            return wrong(f"no ('action', '{part}') in the output"
                         + (f"; the sample went to {loose[0]!r}" if loose else ""),
                         "name_map={'direction': ('action', 'direction'), "
                         "'force': ('action', 'force')}")
    missing_lp = [p for p in PARTS if ("action", f"{p}_log_prob") not in keys]
    if missing_lp:
        return wrong(f"no log-probability for {', '.join(missing_lp)}",
                     "pass return_log_prob=True: each part gets ('action', '<part>_log_prob')")
    force = out["action", "force"]
    direction = out["action", "direction"]
    if force.min() < 0:
        return wrong(f"some forces are negative (min {force.min().item():.3f})",
                     "TanhNormal squashes into [-1, 1] unless told otherwise: "
                     "extra_kwargs={'force': {'low': 0.0, 'high': 0.5}}")
    if force.max() > MAX_FORCE + 1e-6:
        return wrong(f"the force reaches {force.max().item():.3f}, above 0.5",
                     "set the TanhNormal's high bound: extra_kwargs={'force': {'low': 0.0, "
                     "'high': 0.5}}")
    if direction.is_floating_point() or set(direction.unique().tolist()) - {0, 1}:
        return wrong("direction should be an integer 0 or 1 per step",
                     "use d.Categorical for the direction, with its 2 logits")
    if direction.unique().numel() < 2 or force.std() < 1e-4:
        return wrong("500 random samples all gave the same action",
                     "sample under set_exploration_type(ExplorationType.RANDOM): is your "
                     "distribution_map using the network's parameters?")
    with torch.no_grad():
        rollout_td = env.rollout(5, my_actor)
    if rollout_td["action", "force"].max() > MAX_FORCE + 1e-6:
        return wrong("acting deterministically the force goes above 0.5",
                     "the bounds must be on the TanhNormal itself (extra_kwargs)")
    return correct(f"both parts sampled, forces in [{force.min().item():.2f}, "
                   f"{force.max().item():.2f}], per-part log-probs written.")


@exercise("set `joint_log_prob` to the sum of the two per-part log-probabilities")
def check_joint_log_prob(joint_log_prob: Any, rollout_td: TensorDictBase) -> Feedback:
    """Is ``joint_log_prob`` the per-step log-probability of the whole action?

    >>> parts = rollout_td["action"]  # doctest: +SKIP
    >>> lp = parts["direction_log_prob"] + parts["force_log_prob"]  # doctest: +SKIP
    >>> check_joint_log_prob(lp, rollout_td).status  # doctest: +SKIP
    'correct'
    """
    direction = rollout_td["action", "direction_log_prob"]
    force = rollout_td["action", "force_log_prob"]
    expected = direction + force
    if not isinstance(joint_log_prob, torch.Tensor):
        return wrong(f"expected a tensor, got a {type(joint_log_prob).__name__}",
                     "add two entries of rollout_td['action']")
    value = joint_log_prob.detach().reshape(-1)
    if value.numel() == 1 and expected.numel() > 1:
        return wrong("one number for the whole rollout; we want one per step",
                     "don't sum over time: add the two tensors element-wise")
    if value.shape != expected.reshape(-1).shape:
        return wrong(f"shape {tuple(joint_log_prob.shape)}, expected {tuple(expected.shape)}",
                     "one value per step")
    if torch.allclose(value, (direction * force).reshape(-1)):
        return wrong("you multiplied the log-probabilities",
                     "probabilities multiply, so log-probabilities add")
    for name, part in (("direction", direction), ("force", force)):
        if torch.allclose(value, part.reshape(-1)):
            return wrong(f"that is the {name} part alone",
                         "the whole action's log-prob includes both parts")
    if not torch.allclose(value, expected.reshape(-1), atol=1e-5):
        return wrong("the values differ from the two parts' sum",
                     "rollout_td['action', 'direction_log_prob'] + "
                     "rollout_td['action', 'force_log_prob']")
    return correct("independent parts: the joint log-probability is the sum of the parts'.")
