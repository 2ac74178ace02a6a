"""Checks for lesson 04 (exploration modules).

>>> from rltutor.exercises import lesson04 as ex
>>> ex.check_eps_after(None).status
'not done yet'
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModuleBase
from torchrl.data import Bounded
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import AdditiveGaussianModule, EGreedyModule, OrnsteinUhlenbeckProcessModule

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_eps_after", "check_throttle_noise"]

# Exercise 1: (eps_init, eps_end, annealing_num_steps, calls) the prediction is tested on;
# the first is the one the lesson asks about; one stops exactly at the end, one goes past it.
SCHEDULES = (
    (1.0, 0.05, 500, 250),
    (0.9, 0.2, 400, 100),
    (0.5, 0.1, 200, 0),
    (0.6, 0.05, 1000, 1000),
    (1.0, 0.1, 100, 150),
)
# Exercise 2: an action in [LOW, HIGH] gets noise whose std is SHARE of that range.
LOW, HIGH, SHARE = 0.0, 1.0, 0.10
DRAWS = 20_000


def _module_eps(eps_init: float, eps_end: float, annealing_num_steps: int, calls: int) -> float:
    # the truth comes from TorchRL's own module, stepped `calls` times
    module = EGreedyModule(Bounded(-1.0, 1.0, shape=(1,)), eps_init=eps_init, eps_end=eps_end,
                           annealing_num_steps=annealing_num_steps)
    module.step(calls)
    return float(module.eps)


def _schedule_text(eps_init: float, eps_end: float, annealing_num_steps: int) -> str:
    return (f"eps_init={eps_init:g}, eps_end={eps_end:g}, "
            f"annealing_num_steps={annealing_num_steps}")


@exercise("write `eps_after(calls, *, eps_init, eps_end, annealing_num_steps)`")
def check_eps_after(eps_after: Any) -> Feedback:
    """Does ``eps_after`` predict an ``EGreedyModule``'s epsilon after ``calls`` ``.step()`` s?

    The prediction is compared with real modules on several schedules (one of them
    annealed past its end), so a function that ignores its arguments cannot pass.

    >>> def eps_after(calls, *, eps_init, eps_end, annealing_num_steps):
    ...     return max(eps_end, eps_init - (eps_init - eps_end) * calls / annealing_num_steps)
    >>> check_eps_after(eps_after).status
    'correct'
    """
    if not callable(eps_after) or isinstance(eps_after, torch.nn.Module):
        return wrong(
            f"`eps_after` is a {type(eps_after).__name__}, not a function: the check asks it "
            "about several schedules",
            "def eps_after(calls, *, eps_init, eps_end, annealing_num_steps): return ...",
        )
    rows = []
    for eps_init, eps_end, num, calls in SCHEDULES:
        mine = float(eps_after(calls, eps_init=eps_init, eps_end=eps_end,
                               annealing_num_steps=num))
        rows.append((eps_init, eps_end, num, calls, mine, _module_eps(eps_init, eps_end, num,
                                                                      calls)))
    if len({round(r[4], 6) for r in rows}) == 1:
        return wrong(
            f"`eps_after` gives {rows[0][4]:g} for every schedule: it ignores the arguments "
            "it is given",
            "compute epsilon from calls, eps_init, eps_end and annealing_num_steps",
        )
    for eps_init, eps_end, num, calls, mine, _ in rows:
        if calls > num and mine < eps_end - 1e-4:
            return wrong(
                f"after {calls} calls with {_schedule_text(eps_init, eps_end, num)} you predict "
                f"{mine:.4f}, below eps_end: your epsilon keeps falling after the "
                "annealing is over",
                "what does .step() do once annealing_num_steps calls have been made?",
            )
    for eps_init, eps_end, num, calls, mine, truth in rows:
        if not math.isclose(mine, truth, abs_tol=1e-3):
            side = "high" if mine > truth else "low"
            return wrong(
                f"after {calls} calls with {_schedule_text(eps_init, eps_end, num)} your "
                f"prediction {mine:.4f} is too {side}",
                "each call to .step() moves epsilon by the same amount (a straight line), "
                "from eps_init to eps_end in annealing_num_steps calls",
            )
    table = "; ".join(f"{init:g}→{end:g} over {num}, {calls} calls: {mine:.3f}"
                      for init, end, num, calls, mine, _ in rows)
    return correct(f"your predictions match TorchRL's EGreedyModule ({table}).")


def _noise_std(noise: Any, sigma: float | None = None) -> float:
    """The std of what ``noise`` adds to an action in the middle of [LOW, HIGH]."""
    twin = copy.deepcopy(noise)  # the learner's module keeps its sigma
    if sigma is not None:
        twin.sigma.fill_(sigma)
    middle = (LOW + HIGH) / 2
    td = TensorDict({"action": torch.full((DRAWS, 1), middle)}, batch_size=[DRAWS])
    with torch.random.fork_rng(devices=[]), set_exploration_type(ExplorationType.RANDOM), \
            torch.no_grad():
        torch.manual_seed(0)
        return float((twin(td)["action"] - middle).std())


def _bounds(noise: Any) -> tuple[float, float] | None:
    spec = noise.spec
    spec = spec[noise.action_key] if spec is not None and noise.action_key in spec else spec
    space = getattr(spec, "space", None)
    if space is None:
        return None
    return float(space.low.min()), float(space.high.max())


@exercise("set `throttle_noise` to an AdditiveGaussianModule and pass your `measured_std`")
def check_throttle_noise(throttle_noise: Any, measured_std: Any = None) -> Feedback:
    """Is ``throttle_noise`` Gaussian noise of std 10 % of a [0, 1] action's range, kept there?

    ``measured_std`` is the learner's own measurement of that std.

    >>> spec = Bounded(low=0.0, high=1.0, shape=(1,))
    >>> noise = AdditiveGaussianModule(spec=spec, sigma_init=0.1, sigma_end=0.1)
    >>> check_throttle_noise(noise, 0.1).status
    'correct'
    """
    if isinstance(throttle_noise, TensorDictModuleBase) and not isinstance(
            throttle_noise, AdditiveGaussianModule):
        found = [m for m in throttle_noise.modules() if isinstance(m, AdditiveGaussianModule)]
        throttle_noise = found[0] if len(found) == 1 else throttle_noise
    if isinstance(throttle_noise, OrnsteinUhlenbeckProcessModule):
        return wrong("`throttle_noise` is OU noise, which remembers; the task asks for fresh "
                     "Gaussian noise at every step", "use AdditiveGaussianModule")
    if not isinstance(throttle_noise, AdditiveGaussianModule):
        return wrong(
            f"`throttle_noise` is a {type(throttle_noise).__name__}, not one "
            "AdditiveGaussianModule",
            "build a torchrl.modules.AdditiveGaussianModule",
        )
    bounds = _bounds(throttle_noise)
    if bounds is None:
        return wrong("the noise module has no bounded action spec, so it cannot clip the "
                     "throttle to its range", "give it a spec for actions in [0, 1]")
    if not (math.isclose(bounds[0], LOW) and math.isclose(bounds[1], HIGH)):
        return wrong(
            f"the module's spec spans [{bounds[0]:g}, {bounds[1]:g}]; the throttle's actions "
            f"lie in [{LOW:g}, {HIGH:g}]",
            "build a spec for the throttle's range with torchrl.data.Bounded",
        )
    std = _noise_std(throttle_noise)
    target = SHARE * (HIGH - LOW)
    if not math.isclose(std, target, rel_tol=0.05):
        return wrong(
            f"the noise your module adds has a measured std of {std:.3f}, "
            f"{std / (HIGH - LOW):.0%} of the range; the task asks for {SHARE:.0%}",
            "look at what AdditiveGaussianModule multiplies together to make its noise",
        )
    annealed = _noise_std(throttle_noise, sigma=float(throttle_noise.sigma_end))
    if not math.isclose(annealed, target, rel_tol=0.05):
        return wrong(
            f"after annealing with .step() the measured std falls to {annealed:.3f}; it should "
            f"stay at {target:g}",
            "the noise anneals towards sigma_end (its default is 0.1)",
        )
    if measured_std is None or isinstance(measured_std, bool) or not isinstance(
            measured_std, (int, float, torch.Tensor)):
        return wrong(
            "the module is right; now measure the std of the noise it adds yourself and "
            "pass it: check_throttle_noise(throttle_noise, measured_std)",
            "run the module on many copies of one action, under ExplorationType.RANDOM",
        )
    mine = float(measured_std)
    if not math.isclose(mine, std, abs_tol=0.01):
        return wrong(
            f"your measured std is {mine:.3f}, but the noise the module adds has std {std:.3f}",
            "measure on an action far from the bounds (clipping there cuts the noise off), "
            "over many draws, and take the std of noisy − clean",
        )
    return correct(
        f"noise with std {std:.3f} ({std / (HIGH - LOW):.0%} of the [{LOW:g}, {HIGH:g}] range, "
        f"measured over {DRAWS} draws; you measured {mine:.3f}), and it stays there when "
        ".step() anneals it."
    )
