"""Checks for lesson 07 (composite actions with CompositeDistribution).

    >>> from rltutor.exercises import lesson07 as ex
    >>> ex.check_beta_actor(None).status
    'not done yet'
"""

from __future__ import annotations

import re
from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase

from rltutor.addons.toy_envs import PuckEnv
from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_beta_actor", "check_flipped_log_prob"]

PARTS = ("direction", "force")
_SAMPLES = 500
# A force head left unconstrained (a bare Linear) can give two positive parameters at one
# state by chance; across this many states spread over the observations, it does not.
_STATES = 256


def _part_dist(actor: Any, td: TensorDictBase, part: str) -> Any:
    """The distribution ``actor`` builds for ``part`` (a CompositeDistribution's member)."""
    dist = actor.get_dist(td)
    for key, member in getattr(dist, "dists", {}).items():
        if (key[-1] if isinstance(key, tuple) else key) == part:
            return member
    return None


def _sample(beta_actor: Any) -> tuple[TensorDictBase | None, Feedback | None]:
    """500 samples from one PuckEnv state, on a generator of their own."""
    from torchrl.envs import ExplorationType, set_exploration_type


    td = PuckEnv(seed=0).reset().expand(_SAMPLES).clone()  # 500 copies of one state
    try:
        with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
            return beta_actor(td), None
    except TypeError as error:
        said = re.search(r"\w+\.__init__\(\) got an unexpected keyword argument '\w+'",
                         str(error))
        if said is None:
            raise
        return None, wrong(f"CompositeDistribution could not build a part: {said.group(0)}",
                           "each entry under ('params', <part>) is handed to that part's "
                           "distribution by name: name them as its constructor does "
                           "(help(d.Beta))")


def _positive_over_states(beta_actor: Any) -> bool:
    """Are the force's Beta parameters positive at ``_STATES`` PuckEnv states, each of
    position, velocity and target drawn in [-1, 1] (under the caller's seeded generator)?"""
    from torchrl.envs import ExplorationType, set_exploration_type

    td = PuckEnv(seed=0).reset().expand(_STATES).clone()
    td["observation"] = torch.rand(_STATES, 3) * 2 - 1
    with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        dist = _part_dist(beta_actor, beta_actor(td), "force")
    return bool((dist.concentration1 > 0).all() and (dist.concentration0 > 0).all())


@exercise("set `beta_actor` to a ProbabilisticActor whose force is drawn from a Beta")
def check_beta_actor(beta_actor: Any) -> Feedback:
    """Does ``beta_actor`` sample a Categorical direction and a Beta force, per-part log-probs?

    The check samples the actor on PuckEnv states of its own (500 samples at one state,
    and the Beta's parameters at 256 states), with torch's generator forked: the
    learner's env and random stream are left as they were.

    >>> print(check_beta_actor(torch.nn.Linear(3, 2)))
    ✗ Not yet right: beta_actor is a Linear, not a TensorDict module
      Hint: build a ProbabilisticActor(network, in_keys=['params'], ...)
    """
    from torchrl.envs import ExplorationType, set_exploration_type


    if not isinstance(beta_actor, TensorDictModuleBase):
        return wrong(f"beta_actor is a {type(beta_actor).__name__}, not a TensorDict module",
                     "build a ProbabilisticActor(network, in_keys=['params'], ...)")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        out, problem = _sample(beta_actor)
        if problem is not None:
            return problem
        keys = set(out.keys(True, True))
        for part in PARTS:
            if ("action", part) not in keys:
                loose = [k for k in keys if (k[-1] if isinstance(k, tuple) else k) == part]
                return wrong(f"no ('action', '{part}') in the output"
                             + (f"; the sample went to {loose[0]!r}" if loose else ""),
                             "name_map says where each part's sample is written")
        missing_lp = [p for p in PARTS if ("action", f"{p}_log_prob") not in keys]
        if missing_lp:
            return wrong(f"no log-probability for {', '.join(missing_lp)}",
                         "pass return_log_prob=True: each part gets "
                         "('action', '<part>_log_prob')")
        force_dist = _part_dist(beta_actor, out, "force")
        if not isinstance(force_dist, torch.distributions.Beta):
            kind = type(force_dist).__name__ if force_dist is not None else "no distribution"
            return wrong(f"the force is drawn from {kind}, not from a Beta",
                         "this exercise asks for torch.distributions.Beta in "
                         "distribution_map: it lives on [0, 1] with no squashing")
        force, direction = out["action", "force"], out["action", "direction"]
        if torch.isnan(force).any() or not bool((force_dist.concentration1 > 0).all()
                                                and (force_dist.concentration0 > 0).all()
                                                and _positive_over_states(beta_actor)):
            return wrong("some of the Beta's parameters are not positive, so some forces are "
                         "not numbers",
                         "end the force head with a function whose output is always positive")
        if force.min() < 0 or force.max() > 1:
            return wrong(f"forces reach [{force.min().item():.3f}, {force.max().item():.3f}], "
                         "outside [0, 1]", "sample the force from the Beta itself")
        if direction.is_floating_point() or set(direction.unique().tolist()) - {0, 1}:
            return wrong("direction should be an integer 0 or 1 per step",
                         "keep d.Categorical for the direction, with its 2 logits")
        if direction.unique().numel() < 2 or force.std() < 1e-4:
            return wrong(f"{_SAMPLES} random samples all gave the same action",
                         "is your distribution_map using the network's parameters?")
        env = PuckEnv(max_steps=5, seed=0)
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            greedy = env.rollout(5, beta_actor)["action", "force"]
    if not bool(((greedy >= 0) & (greedy <= 1)).all()):
        return wrong("acting deterministically, the force leaves [0, 1]",
                     "the force must come from the Beta distribution itself")
    return correct(f"{_SAMPLES} samples from one state: forces in [{force.min().item():.2f}, "
                   f"{force.max().item():.2f}] around a mean of {force.mean().item():.2f}, "
                   "drawn from a Beta that lives on [0, 1] by itself: no squashing and no "
                   "bounds to pass, only two positive parameters, named as Beta names them.")


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
