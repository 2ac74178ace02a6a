"""Checks for lesson 03 (probabilistic policies and exploration types).

    >>> from rltutor.exercises import lesson03 as ex
    >>> ex.check_car_actor(None).status
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

__all__ = ["check_car_actor", "check_normal_random_modes", "check_probs_actor"]

PENDULUM_OBS = 3
# exercise 1: a toy car's action is (steering in [-1, 1], throttle in [0, 1])
CAR_OBS, CAR_ACTIONS = 5, 2
CAR_LOW, CAR_HIGH = [-1.0, 0.0], [1.0, 1.0]
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


def _bounds_of(spec: Any) -> tuple[list[float], list[float]] | None:
    box = getattr(spec, "space", None)
    if box is None or not hasattr(box, "low"):
        return None
    low = torch.as_tensor(box.low).expand(spec.shape).flatten().tolist()
    high = torch.as_tensor(box.high).expand(spec.shape).flatten().tolist()
    return low, high


def _car_spec_problem(car_actor: ProbabilisticActor) -> Feedback | None:
    spec = car_actor.spec.get("action", None) if car_actor.spec is not None else None
    if spec is None:
        return wrong(
            "the actor carries no action spec",
            "collectors and losses read an action's shape and bounds from the actor's spec: "
            "describe the car's action with a spec and pass it as spec=...",
        )
    bounds = _bounds_of(spec)
    if tuple(spec.shape) != (CAR_ACTIONS,) or bounds is None:
        return wrong(
            f"the actor's spec describes actions of shape {tuple(spec.shape)}, but a car "
            f"action holds {CAR_ACTIONS} numbers (steering, throttle)",
            "build a bounded spec whose shape has one entry per action",
        )
    low, high = bounds
    if [round(x, 4) for x in low] != CAR_LOW or [round(x, 4) for x in high] != CAR_HIGH:
        return wrong(
            f"the spec's bounds are low={low}, high={high}, not steering in [-1, 1] and "
            "throttle in [0, 1]",
            "low and high can be tensors, one entry per action, in the order of the action",
        )
    return None


@exercise("set `car_actor` to a ProbabilisticActor for the car (steering, throttle)")
def check_car_actor(car_actor: Any) -> Feedback:
    """Does ``car_actor`` sample (steering, throttle) pairs inside [-1, 1] × [0, 1]?

    >>> from tensordict.nn import NormalParamExtractor, TensorDictModule
    >>> from torch import nn
    >>> from torchrl.data import Bounded
    >>> from torchrl.modules import MLP, TanhNormal
    >>> spec = Bounded(low=torch.tensor([-1.0, 0.0]), high=torch.tensor([1.0, 1.0]))
    >>> backbone = TensorDictModule(
    ...     nn.Sequential(MLP(out_features=4, num_cells=[16]), NormalParamExtractor()),
    ...     in_keys=["observation"], out_keys=["loc", "scale"])
    >>> actor = ProbabilisticActor(
    ...     backbone, in_keys=["loc", "scale"], spec=spec, distribution_class=TanhNormal,
    ...     distribution_kwargs={"low": spec.space.low, "high": spec.space.high},
    ...     return_log_prob=True)
    >>> check_car_actor(actor).status
    'correct'

    The Pendulum actor with narrower bounds, the nearest cell of the lesson, writes one
    number per action:

    >>> pendulum_like = ProbabilisticActor(
    ...     TensorDictModule(nn.Sequential(MLP(out_features=2), NormalParamExtractor()),
    ...                      in_keys=["observation"], out_keys=["loc", "scale"]),
    ...     in_keys=["loc", "scale"], distribution_class=TanhNormal, return_log_prob=True,
    ...     spec=Bounded(-2.0, 2.0, shape=(1,)), distribution_kwargs={"low": -1.0, "high": 1.0})
    >>> print(check_car_actor(pendulum_like).message)
    each sampled action holds 1 number, but the car needs 2: steering and throttle
    """
    problem = _is_probabilistic_actor(car_actor, "car_actor")
    if problem is not None:
        return problem
    td = _sample(car_actor, CAR_OBS)
    action = td["action"]
    if action.shape[:-1] != (SAMPLES,) or action.shape[-1] != CAR_ACTIONS:
        return wrong(
            f"each sampled action holds {action.shape[-1] if action.dim() > 1 else 1} "
            f"number{'s' if action.dim() > 1 and action.shape[-1] > 1 else ''}, but the car "
            f"needs {CAR_ACTIONS}: steering and throttle",
            "NormalParamExtractor splits the backbone's output in two halves, one for the "
            "locs and one for the scales: how many outputs make one loc and one scale per "
            "action?",
        )
    problem = _car_spec_problem(car_actor)
    if problem is not None:
        return problem
    steer, throttle = action.unbind(-1)
    steer_out = int(((steer < -1.0) | (steer > 1.0)).sum())
    reverse = int((throttle < 0.0).sum())
    too_fast = int((throttle > 1.0).sum())
    if steer_out or reverse or too_fast:
        parts = [f"{n} of {SAMPLES} {what}" for n, what in (
            (steer_out, "steerings left [-1, 1]"), (reverse, "throttles were below 0, "
             "driving backwards"), (too_fast, "throttles went above 1")) if n]
        squashes = bool((action.abs() <= 2.0 + 1e-6).all())
        return wrong(
            "; ".join(parts),
            "the spec only describes the bounds; the distribution must keep its samples "
            "inside them too, and the car's two actions have different bounds"
            if squashes else
            "a Gaussian's tails reach any value: use the distribution of this lesson that "
            "squashes every sample into [low, high], with the car's bounds",
        )
    if float(steer.min()) > -0.5 or float(steer.max()) < 0.5 or float(throttle.std()) < 0.05:
        return wrong(
            f"the samples barely explore: steering spans [{float(steer.min()):.2f}, "
            f"{float(steer.max()):.2f}], throttle [{float(throttle.min()):.2f}, "
            f"{float(throttle.max()):.2f}]",
            "sample from a distribution whose loc and scale both come from the backbone",
        )
    return correct(
        f"{SAMPLES} sampled actions: steering over [{float(steer.min()):.2f}, "
        f"{float(steer.max()):.2f}], throttle over [{float(throttle.min()):.2f}, "
        f"{float(throttle.max()):.2f}], never reversing. The backbone writes a loc and a "
        "scale per action, and each action keeps its own bounds."
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


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@exercise("set `random_modes` to the set of exploration types that give varying actions")
def check_normal_random_modes(random_modes: Any) -> Feedback:
    """Which exploration types make a ``Normal`` actor act differently on the same input?

    The check finds out on a small Normal actor of its own. Wrong answers are told how many
    types are missing or extra, never which ones:

    >>> feedback = check_normal_random_modes({ExplorationType.MODE, ExplorationType.MEDIAN})
    >>> print(feedback.message)
    1 type missing: it varies from call to call; 2 of your types never vary (or raise)
    >>> print(feedback.hint)
    for each type t, call hundred_calls(normal_actor, obs, t) and compare
    """
    if isinstance(random_modes, (str, ExplorationType)) or not isinstance(random_modes, Iterable):
        return wrong(f"expected a set of exploration types, got {random_modes!r}",
                     "write a set, e.g. {ExplorationType.MODE, ExplorationType.MEDIAN}")
    chosen = _as_types(random_modes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        expected = _varying_types(_normal_actor(), _observations(PENDULUM_OBS)[:1])
    missing, extra = expected - chosen, chosen - expected
    if ExplorationType.MEAN in extra and not missing:
        return wrong("MEAN does not vary for a Normal: that was the TanhNormal's row",
                     "a Normal has a formula for its mean (loc), so MEAN returns the same "
                     "action every call; only a TanhNormal's mean is estimated from samples")
    parts = []
    if missing:
        n = len(missing)
        parts.append(f"{_count(n, 'type')} missing: {'it varies' if n == 1 else 'they vary'} "
                     "from call to call")
    if extra:
        parts.append(f"{len(extra)} of your types never vary (or raise)")
    if parts:
        return wrong("; ".join(parts),
                     "for each type t, call hundred_calls(normal_actor, obs, t) and compare")
    names = ", ".join(sorted(t.name for t in expected))
    return correct(f"only {names} varies: a Normal has formulas for its mean and mode, so "
                   "MEAN and MODE both return loc. The TanhNormal's MEAN varied because it "
                   "has no formula and is estimated from fresh samples. Lesson 04's table "
                   "has this Normal column beside the others.")
