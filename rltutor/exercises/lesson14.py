"""Checks for lesson 14 (SAC against TD3 on Pendulum).

>>> from rltutor.exercises import lesson14 as ex
>>> ex.check_ou_collecting(None, None, None, None).status
'not done yet'
>>> ex.check_entropy_gap(None, None, None, None).status
'not done yet'
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torchrl.envs import InitTracker, TransformedEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import AdditiveGaussianModule, OrnsteinUhlenbeckProcessModule

from rltutor.envs import make_env
from rltutor.exercises import Feedback, correct, exercise, not_done, wrong

__all__ = ["check_entropy_gap", "check_ou_collecting", "entropy_gap_truth", "torque_gaps"]

EPISODES = 4
STEPS = 200
WINDOW = 20


def _parts(policy: Any) -> list[nn.Module]:
    return list(policy.module) if hasattr(policy, "module") and isinstance(
        policy.module, nn.ModuleList) else [policy]


def torque_gaps(actor: Any, collecting: Any, *, episodes: int = EPISODES,
                window: int = WINDOW) -> tuple[float, float]:
    """How far ``collecting`` moves the torque from ``actor``'s own choice, early and late.

    Runs ``collecting`` (under ``ExplorationType.RANDOM``) through ``episodes`` Pendulum
    episodes of 200 steps with an ``InitTracker`` (an OU module needs its ``is_init``),
    recomputes the greedy ``actor``'s torque on the same observations, and averages
    |noisy - greedy| over the first and over the last ``window`` steps. Random draws use
    a forked RNG.

    Args:
        actor: the greedy actor (writes ``"action"``).
        collecting: the actor followed by an exploration module.
        episodes: how many episodes to average, seeds 20,000 on.
        window: steps at each end of an episode.

    Returns:
        (mean gap over the first ``window`` steps, over the last ``window`` steps).
    """
    env = TransformedEnv(make_env("Pendulum-v1"), InitTracker())
    early, late = [], []
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(0)
        for episode in range(episodes):
            env.set_seed(20_000 + episode)
            with set_exploration_type(ExplorationType.RANDOM):
                td = env.rollout(STEPS, collecting)
            with set_exploration_type(ExplorationType.DETERMINISTIC):
                greedy = actor(td.select("observation").clone())["action"]
            gap = (td["action"] - greedy).abs().reshape(-1)
            early.append(gap[:window].mean())
            late.append(gap[-window:].mean())
    return float(torch.stack(early).mean()), float(torch.stack(late).mean())


@exercise("set `ou_collecting` (td3_actor, then an OU module) and `ou_prediction`")
def check_ou_collecting(ou_collecting: Any, ou_prediction: Any, td3_actor: Any,
                        td3_collecting: Any) -> Feedback:
    """Is ``ou_collecting`` the TD3 actor followed by OU noise, and is the prediction right?

    >>> check_ou_collecting(3, "ou", None, None).status
    'wrong'
    """
    if not isinstance(ou_collecting, nn.Module):
        return wrong(f"`ou_collecting` is a {type(ou_collecting).__name__}, not a module",
                     "chain the actor and an exploration module in a TensorDictSequential")
    parts = _parts(ou_collecting)
    ou = [i for i, p in enumerate(parts) if isinstance(p, OrnsteinUhlenbeckProcessModule)]
    if not ou:
        if any(isinstance(p, AdditiveGaussianModule) for p in parts):
            return wrong("this is still Gaussian noise: a fresh, independent draw at every "
                         "step, like td3_collecting",
                         "lesson 04's other noise module keeps a memory of its last value")
        return wrong("no Ornstein-Uhlenbeck module in `ou_collecting`",
                     "put lesson 04's OU module after the actor")
    if not any(p is td3_actor for p in parts[: ou[0]]):
        return wrong("the trained `td3_actor` does not come before the OU module",
                     "TensorDictSequential(td3_actor, <OU module>): the actor writes the "
                     "action, then the noise is added to it")
    module = parts[ou[0]]
    if not (math.isclose(module.ou.sigma, 0.2) and math.isclose(module.ou.theta, 0.15)):
        return wrong(f"the OU module has sigma={module.ou.sigma}, theta={module.ou.theta}",
                     "the exercise asks for sigma=0.2 and theta=0.15")
    if ou_prediction not in ("gaussian", "ou"):
        return not_done('set `ou_prediction` to "gaussian" or "ou" (your prediction)')
    gauss_early, gauss_late = torque_gaps(td3_actor, td3_collecting)
    ou_early, ou_late = torque_gaps(td3_actor, ou_collecting)
    truth = "ou" if ou_early > gauss_early else "gaussian"
    measured = (f"over the first {WINDOW} steps the Gaussian noise moved the torque "
                f"{gauss_early:.3f} N·m from the actor's choice on average, the OU noise "
                f"{ou_early:.3f}; over the last {WINDOW} of {STEPS}: {gauss_late:.3f} and "
                f"{ou_late:.3f}")
    if ou_prediction != truth:
        return wrong(f"your module is right, but the prediction is not: {measured}",
                     "the same sigma does not mean the same noise: how big is one OU kick "
                     "(lesson 04: sigma x sqrt(dt)), and where does the process start "
                     "at each episode's first step?")
    return correct(f"{measured}. OU restarts from 0 at every episode start and grows by "
                   "kicks of sigma x sqrt(dt) = 0.02, so early in an episode it barely "
                   "explores; later its pushes add up. Same sigma, very different noise.")


def entropy_gap_truth(loss_fn: Any, batch: Any, *, seed: int = 0) -> float:
    """The SAC actor's entropy estimate on ``batch`` minus ``loss_fn.target_entropy``.

    Args:
        loss_fn: a ``SACLoss``.
        batch: a TensorDict with ``"observation"``.
        seed: the forked RNG's seed for the sampled actions.
    """
    with torch.random.fork_rng(devices=[]), torch.no_grad(), set_exploration_type(
            ExplorationType.RANDOM):
        torch.manual_seed(seed)
        out = loss_fn.actor_network(batch.select("observation").clone())
    return float(-out["action_log_prob"].mean() - loss_fn.target_entropy)


def _states(buffer: Any) -> Any:
    stored = buffer[: len(buffer)]
    return stored[:: max(1, len(stored) // 2000)].select("observation").clone()


@exercise("write `entropy_gap(loss_fn, batch)` and set `alpha_will`")
def check_entropy_gap(entropy_gap: Any, alpha_will: Any, loss_fn: Any, buffer: Any) -> Feedback:
    """Does ``entropy_gap`` estimate entropy - target, and does alpha move the predicted way?

    >>> check_entropy_gap(1.0, "fall", None, None).status
    'wrong'
    """
    if not callable(entropy_gap):
        return wrong(f"`entropy_gap` is a {type(entropy_gap).__name__}, not a function",
                     "def entropy_gap(loss_fn, batch): ... return a float")
    batch = _states(buffer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        answer = entropy_gap(loss_fn, batch.clone())
    if answer is None:
        return not_done("entropy_gap returns None: write its body, then run the check again")
    if isinstance(answer, torch.Tensor):
        if answer.numel() != 1:
            return wrong(f"entropy_gap returned {answer.numel()} numbers",
                         "average over the batch: one number")
        answer = answer.item()
    if not isinstance(answer, (int, float)):
        return wrong(f"entropy_gap returned a {type(answer).__name__}; expected a float",
                     "return a number")
    truth = entropy_gap_truth(loss_fn, batch)
    target = float(loss_fn.target_entropy)
    entropy = truth + target
    tol = 0.1
    if abs(answer - truth) > tol:
        if abs(answer + truth + 2 * target) <= tol:
            return wrong("your sign is flipped: you used +log π(a|s) as the entropy",
                         "entropy is the *negative* mean log-probability of sampled actions")
        if abs(answer - entropy) <= tol:
            return wrong(f"{answer:.2f} is the entropy estimate itself; the target entropy "
                         "is not subtracted",
                         "subtract the target the loss module keeps (look in dir(loss_fn))")
        return wrong(f"your gap is {answer:.3f}; sampled on these states it is about "
                     f"{truth:.3f}",
                     "sample actions with the actor under ExplorationType.RANDOM and read "
                     "their log-probability")
    if alpha_will not in ("rise", "fall"):
        return not_done(f'the gap is right ({answer:.2f}); now set `alpha_will` to "rise" '
                        'or "fall"')
    expected = "fall" if truth > 0 else "rise"
    if alpha_will != expected:
        return wrong(f"the gap is right ({answer:.2f}), but alpha will {expected}",
                     "the loss is -log_alpha x (log π + target) = log_alpha x gap: gradient "
                     "descent moves log_alpha against the sign of the gap")
    return correct(f"the entropy estimate is {entropy:.2f} against a target of {target:g}: "
                   f"a gap of {answer:.2f}, so alpha will {expected}. alpha keeps falling "
                   "while the actor samples more widely than the target asks, and stops "
                   "once the two meet.")
