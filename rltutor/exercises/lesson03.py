"""Checks for lesson 03 (probabilistic policies and exploration types).

    >>> from rltutor.exercises import lesson03 as ex
    >>> ex.check_bounded_gaussian_actor(None).status
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

__all__ = [
    "check_bounded_gaussian_actor",
    "check_categorical_actor",
    "check_random_modes",
]

PENDULUM_OBS, MAX_TORQUE = 3, 2.0
CARTPOLE_OBS, CARTPOLE_ACTIONS = 4, 2
SAMPLES = 4096


def _sample(actor: ProbabilisticActor, obs_size: int, seed: int = 0) -> TensorDict:
    # Many copies of a few observations, sampled under RANDOM, on a private RNG stream.
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(8, obs_size, generator=gen).repeat(SAMPLES // 8, 1)
    td = TensorDict(observation=obs, batch_size=[SAMPLES])
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


@exercise("set `bounded_actor` to a ProbabilisticActor for Pendulum")
def check_bounded_gaussian_actor(bounded_actor: Any) -> Feedback:
    """Does ``bounded_actor`` sample varied Pendulum torques that never leave [-2, 2]?

    >>> actor = make_gaussian_actor(env, bounded=True)  # doctest: +SKIP
    >>> check_bounded_gaussian_actor(actor).status  # doctest: +SKIP
    'correct'
    """
    problem = _is_probabilistic_actor(bounded_actor, "bounded_actor")
    if problem is not None:
        return problem
    td = _sample(bounded_actor, PENDULUM_OBS)
    action = td["action"]
    if action.shape != (SAMPLES, 1):
        return wrong(
            f"{SAMPLES} observations gave actions of shape {tuple(action.shape)}, "
            f"expected ({SAMPLES}, 1)",
            "the backbone must output 2 numbers (loc and scale) for Pendulum's 1 torque",
        )
    outside = int(((action < -MAX_TORQUE) | (action > MAX_TORQUE)).sum())
    if outside:
        return wrong(
            f"{outside} of {SAMPLES} sampled torques left [-2, 2]",
            "use distribution_class=TanhNormal with distribution_kwargs low/high from the "
            "action spec: it squashes every sample into the bounds",
        )
    if float(action.std()) < 1e-3:
        return wrong(
            "every sample is the same action: the actor does not explore under RANDOM",
            "sample from a distribution (TanhNormal) whose scale comes from the backbone",
        )
    return correct(
        f"{SAMPLES} random torques, spread over [{float(action.min()):.2f}, "
        f"{float(action.max()):.2f}], none outside the bounds, each with its log-probability."
    )


@exercise("set `cartpole_actor` to a ProbabilisticActor for CartPole")
def check_categorical_actor(cartpole_actor: Any) -> Feedback:
    """Does ``cartpole_actor`` sample one-hot CartPole actions, both of them, from ``logits``?

    >>> check_categorical_actor(make_categorical_actor(cartpole_env)).status  # doctest: +SKIP
    'correct'
    """
    problem = _is_probabilistic_actor(cartpole_actor, "cartpole_actor")
    if problem is not None:
        return problem
    if "logits" not in cartpole_actor.out_keys:
        return wrong(
            f"the actor writes {list(cartpole_actor.out_keys)}: no 'logits'",
            "let the backbone write out_keys=['logits'] and the actor read in_keys=['logits']",
        )
    td = _sample(cartpole_actor, CARTPOLE_OBS)
    action = td["action"]
    if action.shape != (SAMPLES, CARTPOLE_ACTIONS):
        return wrong(
            f"actions have shape {tuple(action.shape)}, expected ({SAMPLES}, 2): one-hot vectors",
            "CartPole's action spec is one-hot: use distribution_class=OneHotCategorical",
        )
    if action.is_floating_point() or not bool(((action == 0) | (action == 1)).all()):
        return wrong(
            "the actions are not one-hot vectors of 0s and 1s",
            "use torchrl.modules.OneHotCategorical, which samples one-hot integer vectors",
        )
    if not bool((action.sum(-1) == 1).all()):
        return wrong("some action vectors do not hold exactly one 1", "use OneHotCategorical")
    counts = action.sum(0).tolist()
    if min(counts) == 0:
        return wrong(
            f"over {SAMPLES} random samples the actions were chosen {counts} times",
            "a sampling policy should try both pushes: sample from the logits (RANDOM)",
        )
    return correct(
        f"one-hot actions sampled from logits: left {counts[0]} times, right {counts[1]} times."
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


@exercise("set `random_modes` to the set of exploration types that give varying actions")
def check_random_modes(random_modes: Any) -> Feedback:
    """Which modes make a TanhNormal actor give a different action on the same input?

    The answer is ``{RANDOM, MEAN}``: RANDOM samples, and MEAN, having no formula for a
    TanhNormal, averages a fresh batch of samples each call.

    >>> check_random_modes({ExplorationType.RANDOM, ExplorationType.MEAN}).status  # doctest: +SKIP
    'correct'
    """
    if isinstance(random_modes, (str, ExplorationType)) or not isinstance(random_modes, Iterable):
        return wrong(
            f"expected a set of exploration types, got {random_modes!r}",
            "write a set, e.g. {ExplorationType.RANDOM}",
        )
    chosen = _as_types(random_modes)
    expected = {ExplorationType.RANDOM, ExplorationType.MEAN}
    missing, extra = expected - chosen, chosen - expected
    if ExplorationType.RANDOM in missing:
        return wrong(
            "RANDOM is missing: it draws a fresh sample each call",
            "call the actor twice under each mode and compare the actions",
        )
    if ExplorationType.MEAN in missing:
        return wrong(
            "one mode is missing: MEAN also changes from call to call for a TanhNormal",
            "TanhNormal has no formula for its mean, so TorchRL averages 1000 fresh samples",
        )
    if extra:
        names = sorted(t.name for t in extra)
        return wrong(
            f"{names} give the same action every call (or raise, for MODE and MEDIAN)",
            "run the comparison cell above again and look at which actions changed",
        )
    return correct(
        "RANDOM samples once per call; MEAN averages 1000 samples per call, so it wobbles a "
        "little. DETERMINISTIC is the only mode that is both repeatable and always works."
    )
