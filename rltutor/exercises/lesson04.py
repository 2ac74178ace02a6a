"""Checks for lesson 04 (exploration modules).

>>> from rltutor.exercises import lesson04 as ex
>>> ex.check_annealed_egreedy(None).status
'not done yet'
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from tensordict.nn import TensorDictModuleBase, TensorDictSequential
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import AdditiveGaussianModule, EGreedyModule

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_annealed_egreedy", "check_noisy_policy"]

# Exercise 1: epsilon goes from EPS_START to EPS_END in exactly ANNEAL_CALLS calls to .step().
EPS_START, EPS_END, ANNEAL_CALLS = 1.0, 0.05, 500
# Exercise 2: Gaussian noise of a fixed scale on top of the learner's deterministic policy.
SIGMA = 0.5


def _eps_after(module: EGreedyModule, calls: int) -> float:
    # Anneal a copy so checking never changes the learner's module.
    twin = copy.deepcopy(module)
    twin.step(calls)
    return float(twin.eps)


@exercise("set `annealed` to an EGreedyModule for the environment's action spec")
def check_annealed_egreedy(annealed: Any) -> Feedback:
    """Is ``annealed`` an ``EGreedyModule`` whose epsilon goes 1.0 -> 0.05 in 500 ``.step()`` s?

    >>> from torchrl.data import Bounded
    >>> spec = Bounded(-2.0, 2.0, shape=(1,))  # Pendulum's action spec
    >>> check_annealed_egreedy(EGreedyModule(spec, 1.0, 0.05, 500)).status
    'correct'
    """
    if not isinstance(annealed, EGreedyModule):
        return wrong(
            f"`annealed` is a {type(annealed).__name__}, not an EGreedyModule",
            "build it with torchrl.modules.EGreedyModule(spec=env.action_spec, ...)",
        )
    if annealed.spec is None:
        return wrong(
            "the module has no action spec, so it cannot draw a random action",
            "pass spec=env.action_spec",
        )
    eps_now = float(annealed.eps)
    if not math.isclose(eps_now, EPS_START, abs_tol=1e-6):
        return wrong(
            f"epsilon starts at {eps_now:g}, expected {EPS_START:g}"
            + (" (has .step() been called on it already?)" if eps_now < EPS_START else ""),
            "eps_init is the starting epsilon; build a fresh module with eps_init=1.0",
        )
    final = _eps_after(annealed, 10 * ANNEAL_CALLS)
    if not math.isclose(final, EPS_END, abs_tol=1e-4):
        return wrong(
            f"epsilon settles at {final:g}, expected {EPS_END:g}",
            "eps_end is where annealing stops",
        )
    early = _eps_after(annealed, ANNEAL_CALLS - 1)
    on_time = _eps_after(annealed, ANNEAL_CALLS)
    if not math.isclose(on_time, EPS_END, abs_tol=1e-4) or early <= EPS_END + 1e-4:
        return wrong(
            f"after {ANNEAL_CALLS - 1} calls to .step() epsilon is {early:.4f} and after "
            f"{ANNEAL_CALLS} it is {on_time:.4f}; it should reach {EPS_END:g} exactly at "
            f"call {ANNEAL_CALLS}",
            f"annealing_num_steps counts calls to .step(): set it to {ANNEAL_CALLS}",
        )
    return correct(
        f"epsilon falls linearly from {EPS_START:g} to {EPS_END:g} over {ANNEAL_CALLS} calls "
        "to .step(), then stays there."
    )


def _find(module: TensorDictModuleBase, kind: type) -> list[Any]:
    return [m for m in module.modules() if isinstance(m, kind)]


@exercise("set `noisy_policy` to your policy followed by an AdditiveGaussianModule")
def check_noisy_policy(noisy_policy: Any, policy: TensorDictModuleBase, env: Any) -> Feedback:
    """Is ``noisy_policy`` = ``policy`` + constant Gaussian noise of scale 0.5, clipped by spec?

    >>> from torchrl.envs import GymEnv
    >>> from torchrl.modules import MLP, Actor
    >>> env = GymEnv("Pendulum-v1")
    >>> policy = Actor(MLP(out_features=1, num_cells=[8]), spec=env.action_spec)
    >>> noise = AdditiveGaussianModule(spec=env.action_spec, sigma_init=0.5, sigma_end=0.5)
    >>> check_noisy_policy(TensorDictSequential(policy, noise), policy, env).status
    'correct'
    """
    if not isinstance(noisy_policy, TensorDictSequential):
        return wrong(
            f"`noisy_policy` is a {type(noisy_policy).__name__}; expected a TensorDictSequential",
            "chain the two: TensorDictSequential(policy, noise_module)",
        )
    if _find(noisy_policy, EGreedyModule):
        return wrong(
            "the chain contains an EGreedyModule; this exercise asks for Gaussian noise only",
            "use AdditiveGaussianModule instead",
        )
    noises = _find(noisy_policy, AdditiveGaussianModule)
    if len(noises) != 1:
        return wrong(
            f"found {len(noises)} AdditiveGaussianModule(s) in the chain; expected exactly one",
            "put one AdditiveGaussianModule after the policy",
        )
    noise = noises[0]
    if noisy_policy[-1] is not noise:
        return wrong(
            "the AdditiveGaussianModule is not the last module, so the policy overwrites "
            "the noisy action",
            "noise goes after the policy: TensorDictSequential(policy, noise)",
        )
    if noise.spec is None:
        return wrong(
            "the noise module has no spec: it cannot clip actions to the bounds",
            "pass spec=env.action_spec",
        )
    if not math.isclose(float(noise.sigma), SIGMA, abs_tol=1e-6):
        return wrong(
            f"sigma is {float(noise.sigma):g}, expected {SIGMA:g}",
            "sigma_init sets the noise scale (its default is 1.0)",
        )
    if not math.isclose(float(noise.sigma_end), SIGMA, abs_tol=1e-6):
        return wrong(
            f"sigma_end is {float(noise.sigma_end):g}, so .step() would shrink the noise; "
            f"it should stay at {SIGMA:g}",
            "set sigma_end equal to sigma_init (its default is 0.1)",
        )
    td = env.reset()
    with torch.no_grad():
        clean = policy(td.clone())["action"]
        with set_exploration_type(ExplorationType.DETERMINISTIC):
            switched_off = noisy_policy(td.clone())["action"]
        if not torch.allclose(clean, switched_off):
            return wrong(
                "with exploration switched off, `noisy_policy` acts differently from `policy`",
                "build it from the `policy` given in the lesson, not a new network",
            )
        with torch.random.fork_rng(devices=[]), set_exploration_type(ExplorationType.RANDOM):
            torch.manual_seed(0)
            noisy = torch.stack([noisy_policy(td.clone())["action"] for _ in range(200)])
    if torch.allclose(noisy, clean.expand_as(noisy)):
        return wrong("under ExplorationType.RANDOM the action never changes", "check sigma")
    if not bool(env.action_spec.is_in(noisy).all()):
        return wrong("some noisy actions leave the action bounds", "pass spec=env.action_spec")
    spread = float((noisy - clean).std())
    return correct(
        f"Gaussian noise of scale {SIGMA:g} (measured std {spread:.2f} over 200 draws, "
        "after clipping) on top of your policy, and none when exploration is off."
    )
