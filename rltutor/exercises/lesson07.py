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

__all__ = ["check_flipped_log_prob", "check_gentle_actor"]

MAX_FORCE = 0.5
PARTS = ("direction", "force")


@exercise("set `my_actor` to a ProbabilisticActor whose force stays in [0, 0.5]")
def check_gentle_actor(my_actor: Any, env: Any) -> Feedback:
    """Does ``my_actor`` write both action parts, their log-probs, and push at most 0.5?

    >>> from rltutor.toy_envs import PuckEnv
    >>> print(check_gentle_actor(torch.nn.Linear(3, 2), PuckEnv()))
    ✗ Not yet right: my_actor is a Linear, not a TensorDict module
      Hint: build a ProbabilisticActor(network, in_keys=['params'], ...)
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


def _flipped(rollout_td: TensorDictBase) -> TensorDictBase:
    flipped = rollout_td.clone()
    flipped["action", "direction"] = 1 - flipped["action", "direction"]
    return flipped


def _joint_log_prob(actor: Any, td: TensorDictBase) -> torch.Tensor:
    from tensordict.nn import set_composite_lp_aggregate

    with set_composite_lp_aggregate(True), torch.no_grad():
        return actor.get_dist(td).log_prob(td)


@exercise("set `flipped_log_prob` to the log-probability of the other direction, same force")
def check_flipped_log_prob(flipped_log_prob: Any, rollout_td: TensorDictBase,
                           actor: Any) -> Feedback:
    """Is ``flipped_log_prob`` the per-step log-probability of the flipped-direction action?

    The reference asks ``actor``'s distribution for the log-probability of each step's
    action with its direction flipped and its force kept.

    >>> check_flipped_log_prob(None, None, None).status  # the learner's cell still holds None
    'not done yet'
    """
    direction = rollout_td["action", "direction_log_prob"]
    force = rollout_td["action", "force_log_prob"]
    expected = _joint_log_prob(actor, _flipped(rollout_td)).reshape(-1)
    if not isinstance(flipped_log_prob, torch.Tensor):
        return wrong(f"expected a tensor, got a {type(flipped_log_prob).__name__}",
                     "one log-probability per step, as a tensor")
    value = flipped_log_prob.detach().reshape(-1).to(expected.dtype)
    if value.numel() == 1 and expected.numel() > 1:
        return wrong("one number for the whole rollout; we want one per step",
                     "don't sum over time: one value per step")
    if value.shape != expected.shape:
        return wrong(f"shape {tuple(flipped_log_prob.shape)}, expected one value per step "
                     f"({expected.numel()})", "one value per step")
    if torch.allclose(value, expected, atol=1e-4):
        return correct("the other direction with the same force: log(1 - p(direction taken)) "
                       "plus the force part, unchanged. Each part is scored on its own, and "
                       "the whole action's log-probability is their sum.")
    if torch.allclose(value, (direction + force).reshape(-1), atol=1e-5):
        return wrong("that is the log-probability of the action that was taken",
                     "flip the direction first (1 - direction), then score that action")
    if torch.allclose(value, (-direction + force).reshape(-1), atol=1e-5):
        return wrong("negating a log-probability does not give the other choice's",
                     "with two choices, p(other) = 1 - p(taken): log1p(-exp(log p))")
    only_direction = (expected - force.reshape(-1))
    if torch.allclose(value, only_direction, atol=1e-4):
        return wrong("that is the direction part alone",
                     "the whole action's log-probability adds the force part")
    return wrong("the values differ from the distribution's score of the flipped action",
                 "clone rollout_td, set ('action', 'direction') to 1 - direction, and ask "
                 "actor.get_dist(td).log_prob(td) under set_composite_lp_aggregate(True)")
