"""Checks for lesson 03 (probabilistic policies and exploration types).

    >>> from rltutor.exercises import lesson03 as ex
    >>> ex.check_gentle_actor(None).status
    'not done yet'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from tensordict import TensorDict
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import ProbabilisticActor

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_gentle_actor", "check_normal_random_modes", "check_probs_actor"]

PENDULUM_OBS, MAX_TORQUE = 3, 2.0
GENTLE = 1.0  # exercise 2: torques limited to [-GENTLE, GENTLE]
CARTPOLE_OBS, CARTPOLE_ACTIONS = 4, 2
SAMPLES = 4096


def _observations(obs_size: int, seed: int = 0) -> TensorDict:
    # Many copies of a few observations, drawn from a private generator.
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(8, obs_size, generator=gen).repeat(SAMPLES // 8, 1)
    return TensorDict(observation=obs, batch_size=[SAMPLES])


def _sample(actor: ProbabilisticActor, obs_size: int, seed: int = 0) -> TensorDict:
    # Sampled under RANDOM, on a private RNG stream so the learner's RNG stays put.
    td = _observations(obs_size, seed)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        with set_exploration_type(ExplorationType.RANDOM):
            return actor(td)


def _is_probabilistic_actor(actor: Any, name: str) -> Feedback | None:
    if not isinstance(actor, ProbabilisticActor):
        return wrong(
            f"`{name}` is a {type(actor).__name__}, not a ProbabilisticActor",
            "build ProbabilisticActor(backbone, in_keys=[...], distribution_class=..., ...)",
        )
    if "action_log_prob" not in actor.out_keys:
        return wrong(
            f"the actor writes {list(actor.out_keys)}: no 'action_log_prob'",
            "pass return_log_prob=True so each sampled action comes with its log-probability",
        )
    return None


@exercise("set `gentle_actor` to a ProbabilisticActor for Pendulum")
def check_gentle_actor(gentle_actor: Any) -> Feedback:
    """Does ``gentle_actor`` sample varied Pendulum torques that never leave [-1, 1]?

    >>> from tensordict.nn import NormalParamExtractor, TensorDictModule
    >>> from torch import nn
    >>> from torchrl.modules import MLP, TanhNormal
    >>> backbone = TensorDictModule(
    ...     nn.Sequential(MLP(out_features=2, num_cells=[16]), NormalParamExtractor()),
    ...     in_keys=["observation"], out_keys=["loc", "scale"])
    >>> actor = ProbabilisticActor(backbone, in_keys=["loc", "scale"],
    ...                            distribution_class=TanhNormal, return_log_prob=True,
    ...                            distribution_kwargs={"low": -1.0, "high": 1.0})
    >>> check_gentle_actor(actor).status
    'correct'
    """
    problem = _is_probabilistic_actor(gentle_actor, "gentle_actor")
    if problem is not None:
        return problem
    td = _sample(gentle_actor, PENDULUM_OBS)
    action = td["action"]
    if action.shape != (SAMPLES, 1):
        return wrong(
            f"{SAMPLES} observations gave actions of shape {tuple(action.shape)}, "
            f"expected ({SAMPLES}, 1)",
            "the backbone must output 2 numbers (loc and scale) for Pendulum's 1 torque",
        )
    low, high = float(action.min()), float(action.max())
    outside = int(((action < -GENTLE) | (action > GENTLE)).sum())
    if outside:
        hint = (
            "the spec's bounds are [-2, 2]; here you choose the bounds yourself: "
            "distribution_kwargs={'low': -1.0, 'high': 1.0}"
            if high <= MAX_TORQUE and low >= -MAX_TORQUE
            else "use distribution_class=TanhNormal with distribution_kwargs low=-1.0, high=1.0: "
            "it squashes every sample into the bounds"
        )
        return wrong(
            f"{outside} of {SAMPLES} sampled torques left [-1, 1] "
            f"(they ranged over [{low:.2f}, {high:.2f}])",
            hint,
        )
    if float(action.std()) < 0.05:
        return wrong(
            "the samples barely differ: the actor does not explore under RANDOM",
            "sample from a distribution (TanhNormal) whose scale comes from the backbone",
        )
    return correct(
        f"{SAMPLES} random torques spread over [{low:.2f}, {high:.2f}], none outside "
        "[-1, 1], each with its log-probability."
    )


@exercise("set `probs_actor` to a ProbabilisticActor for CartPole")
def check_probs_actor(probs_actor: Any) -> Feedback:
    """Does ``probs_actor`` sample one-hot CartPole actions from ``probs`` (not logits)?

    >>> from tensordict.nn import TensorDictModule
    >>> from torch import nn
    >>> from torchrl.modules import MLP, OneHotCategorical
    >>> backbone = TensorDictModule(
    ...     nn.Sequential(MLP(out_features=2, num_cells=[16]), nn.Softmax(dim=-1)),
    ...     in_keys=["observation"], out_keys=["probs"])
    >>> actor = ProbabilisticActor(backbone, in_keys=["probs"], return_log_prob=True,
    ...                            distribution_class=OneHotCategorical)
    >>> check_probs_actor(actor).status
    'correct'
    """
    problem = _is_probabilistic_actor(probs_actor, "probs_actor")
    if problem is not None:
        return problem
    if "probs" not in probs_actor.out_keys:
        return wrong(
            f"the actor writes {list(probs_actor.out_keys)}: no 'probs'",
            "let the backbone write out_keys=['probs'] and the actor read in_keys=['probs']: "
            "ProbabilisticActor passes its in_keys to the distribution as keyword arguments",
        )
    # Look at the backbone's output first: invalid probabilities make sampling itself fail.
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        params = probs_actor.get_dist_params(_observations(CARTPOLE_OBS))
    probs = params["probs"]
    if probs.shape != (SAMPLES, CARTPOLE_ACTIONS):
        return wrong(
            f"'probs' has shape {tuple(probs.shape)}, expected ({SAMPLES}, 2)",
            "the backbone's MLP needs out_features=2, one probability per push",
        )
    if bool((probs < 0).any()) or not torch.allclose(probs.sum(-1), torch.ones(SAMPLES),
                                                     atol=1e-4):
        return wrong(
            "the backbone's 'probs' are not probabilities (non-negative, summing to 1)",
            "end the backbone with nn.Softmax(dim=-1)",
        )
    action = _sample(probs_actor, CARTPOLE_OBS)["action"]
    if action.shape != (SAMPLES, CARTPOLE_ACTIONS) or action.is_floating_point():
        return wrong(
            f"actions are {action.dtype} of shape {tuple(action.shape)}, expected one-hot "
            f"integer vectors of shape ({SAMPLES}, 2)",
            "CartPole's action spec is one-hot: use distribution_class=OneHotCategorical",
        )
    if not bool((action.sum(-1) == 1).all()):
        return wrong("some action vectors do not hold exactly one 1", "use OneHotCategorical")
    counts = action.sum(0).tolist()
    if min(counts) == 0:
        return wrong(
            f"over {SAMPLES} random samples the actions were chosen {counts} times",
            "a sampling policy should try both pushes: sample from the probabilities",
        )
    return correct(
        f"one-hot actions sampled from probabilities: left {counts[0]} times, "
        f"right {counts[1]} times. The in_keys name the distribution's arguments."
    )


_NAMES = {t.value: t for t in ExplorationType}


def _as_types(answer: Iterable[Any]) -> set[ExplorationType]:
    types = set()
    for item in answer:
        if isinstance(item, ExplorationType):
            types.add(item)
        elif isinstance(item, str) and item.lower() in _NAMES:
            types.add(_NAMES[item.lower()])
        else:
            raise ValueError(
                f"{item!r} is not an exploration type; use ExplorationType.RANDOM or 'random'"
            )
    return types


def _varying_types(actor: Any, td: TensorDict) -> set[ExplorationType]:
    """The exploration types under which two calls of ``actor`` on ``td`` differ."""
    varying = set()
    for kind in ExplorationType:
        try:
            with set_exploration_type(kind), torch.no_grad():
                first, second = (actor(td.clone())["action"] for _ in range(2))
        except Exception:  # noqa: BLE001 - no formula for this type: it does not vary
            continue
        if not torch.equal(first, second):
            varying.add(kind)
    return varying


def _normal_actor() -> ProbabilisticActor:
    from tensordict.nn import NormalParamExtractor, TensorDictModule
    from torch.distributions import Normal

    gen_state = torch.random.get_rng_state()
    torch.manual_seed(0)
    backbone = TensorDictModule(
        torch.nn.Sequential(torch.nn.Linear(PENDULUM_OBS, 2), NormalParamExtractor()),
        in_keys=["observation"], out_keys=["loc", "scale"])
    torch.random.set_rng_state(gen_state)
    return ProbabilisticActor(backbone, in_keys=["loc", "scale"], distribution_class=Normal)


@exercise("set `random_modes` to the set of exploration types that give varying actions")
def check_normal_random_modes(random_modes: Any) -> Feedback:
    """Which exploration types make a ``Normal`` actor act differently on the same input?

    The check finds out on a small Normal actor of its own (at the pinned versions: only
    RANDOM, since a Normal has formulas for its mean and mode).

    >>> check_normal_random_modes({ExplorationType.RANDOM}).status
    'correct'
    """
    if isinstance(random_modes, (str, ExplorationType)) or not isinstance(random_modes, Iterable):
        return wrong(f"expected a set of exploration types, got {random_modes!r}",
                     "write a set, e.g. {ExplorationType.RANDOM}")
    chosen = _as_types(random_modes)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        expected = _varying_types(_normal_actor(), _observations(PENDULUM_OBS)[:1])
    missing, extra = expected - chosen, chosen - expected
    if ExplorationType.MEAN in extra and ExplorationType.MEAN not in expected:
        return wrong("MEAN does not vary for a Normal: that was the TanhNormal's row",
                     "a Normal has a formula for its mean (loc), so MEAN returns the same "
                     "action every call; only a TanhNormal's mean is estimated from samples")
    if missing:
        names = sorted(t.name for t in missing)
        return wrong(f"{names} missing: it gives a different action each call",
                     "call two_calls(normal_actor, obs, t) for each type t")
    if extra:
        names = sorted(t.name for t in extra)
        return wrong(f"{names} give the same action every call (or raise)",
                     "call two_calls(normal_actor, obs, t) for each type t and compare")
    names = ", ".join(sorted(t.name for t in expected))
    return correct(f"only {names} varies: a Normal has formulas for its mean and mode, so "
                   "MEAN and MODE both return loc. The TanhNormal's MEAN varied because it "
                   "has no formula and is estimated from fresh samples.")
