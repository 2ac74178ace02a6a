"""Where a probabilistic policy's actions fall: a band of its action distribution per step.

For a probabilistic actor an exploratory "mark" on every sampled step says nothing (every
sample differs from the deterministic action). What helps is the distribution itself:
the band from its 5 % to its 95 % point at each step, drawn with the deterministic action
and the sample taken. The band is read from the distribution parameters the rollout
stored (``loc``/``scale``, ``logits``...), so the network does not run again, and comes
through any transform of the distribution (the tanh of a ``TanhNormal`` included)
because it is made of samples.

    >>> import rltutor
    >>> env = rltutor.make_env("Pendulum-v1")
    >>> actor = rltutor.make_gaussian_actor(env)
    >>> td = rltutor.rollout(env, actor, steps=5, exploration="random", seed=0)
    >>> low, high = action_band(actor, td)
    >>> bool((low <= high).all()) and low.shape == td["action"].shape
    True
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict.nn import ProbabilisticTensorDictModule

from rltutor._greedy import action_leaves

__all__ = ["action_band", "action_bands"]

_SAMPLES = 400  # per step: the 5 % and 95 % points to about ±0.02 of the band's width


def _probabilistic_module(policy: Any) -> Any:
    """The one module that draws the action, or None (none, or more than one)."""
    if not isinstance(policy, torch.nn.Module):
        return None
    found = [m for m in policy.modules() if isinstance(m, ProbabilisticTensorDictModule)]
    return found[0] if len(found) == 1 else None


def _draw(module: Any, td: Any) -> tuple[Any, Any] | None:
    """The module's distribution at every step of ``td`` and _SAMPLES draws from it.

    Seeded inside a forked generator: the band is the same on every redraw and the
    learner's torch random state is left as it was. None when ``td`` lacks an input.
    """
    keys = list(module.in_keys)
    if any(k not in td.keys(include_nested=True) for k in keys):
        return None
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        dist = module.get_dist(td.select(*keys))
        return dist, dist.sample((_SAMPLES,))


def _check_quantiles(quantiles: Any) -> tuple[float, float]:
    """``(low, high)`` as floats, or a ValueError saying what a band's quantiles must be."""
    try:
        low_q, high_q = (float(q) for q in quantiles)
    except (TypeError, ValueError):
        low_q = high_q = float("nan")  # fails the check below, with the same message
    if not 0.0 <= low_q < high_q <= 1.0:
        raise ValueError(f"quantiles must be (low, high) with 0 <= low < high <= 1, got "
                         f"{quantiles!r}")
    return low_q, high_q


def _quantile_band(samples: torch.Tensor,
                   quantiles: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """The low and high quantile over the draws (dim 0) of float ``samples``."""
    levels = torch.tensor(quantiles, dtype=samples.dtype, device=samples.device)
    low, high = torch.quantile(samples, levels, dim=0)
    return low, high


def action_band(
    policy: Any, td: Any, *, quantiles: tuple[float, float] = (0.05, 0.95)
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The ``quantiles`` of ``policy``'s action distribution at every step of ``td``.

    Returns ``(low, high)``, each shaped like ``td["action"]``, or ``None`` where there
    is no band to draw: no probabilistic module (or several), a composite or discrete
    action, or parameters missing from ``td``. Sampling runs on a generator of its own
    seeding, so the band is the same on every call and torch's global stream is left
    as it was.

    Args:
        policy: the policy that made the rollout.
        td: the rollout (``[T]`` or ``[envs, T]``), holding the distribution parameters.
        quantiles: the low and high probability of the band, ``0 <= low < high <= 1``.

    >>> from rltutor import make_env, make_actor, rollout
    >>> env = make_env("Pendulum-v1")
    >>> action_band(make_actor(env), rollout(env, make_actor(env), steps=3)) is None
    True
    """
    quantiles = _check_quantiles(quantiles)
    module = _probabilistic_module(policy)
    action = td.get("action", None) if hasattr(td, "get") else None
    if module is None or not isinstance(action, torch.Tensor) or not action.is_floating_point():
        return None
    drawn = _draw(module, td)
    if drawn is None:
        return None
    _, samples = drawn
    with torch.no_grad():
        if samples.shape[1:] != action.shape or not samples.is_floating_point():
            return None
        return _quantile_band(samples, quantiles)


def action_bands(
    policy: Any, td: Any, *, quantiles: tuple[float, float] = (0.05, 0.95)
) -> dict[str, Any] | None:
    """Where each part of ``policy``'s action falls, by part name (as ``action_leaves``
    names them: ``"action"`` for a plain tensor, ``"force"`` in a composite action).

    A continuous part gets ``(low, high)``, its ``quantiles`` at every step; a discrete
    part (index or one-hot) gets the probability of each choice, shaped ``(*batch, n)``,
    estimated from the same seeded samples. ``None`` where there is nothing to draw: no
    probabilistic module (or several), or its parameters missing from ``td``.

    Args:
        policy: the policy that made the rollout.
        td: the rollout (``[T]`` or ``[envs, T]``), holding the distribution parameters.
        quantiles: the low and high probability of a continuous part's band.

    >>> import rltutor
    >>> env = rltutor.make_env("CartPole-v1")
    >>> actor = rltutor.make_categorical_actor(env)
    >>> td = rltutor.rollout(env, actor, steps=4, exploration="random", seed=0)
    >>> probs = action_bands(actor, td)["action"]
    >>> probs.shape, bool(torch.allclose(probs.sum(-1), torch.ones(4)))
    (torch.Size([4, 2]), True)
    """
    quantiles = _check_quantiles(quantiles)
    module = _probabilistic_module(policy)
    taken = td.get("action", None) if hasattr(td, "get") else None
    if module is None or taken is None:
        return None
    drawn = _draw(module, td)
    if drawn is None:
        return None
    dist, samples = drawn
    exact = _choice_probs(dist)
    if not isinstance(samples, torch.Tensor):  # a composite: its parts under "action"
        samples = samples.get("action", None)
        if samples is None:
            return None
    drawn = dict(action_leaves(samples))
    bands: dict[str, Any] = {}
    for name, part in action_leaves(taken):
        sample = drawn.get(name)
        if sample is None or sample.shape[1:] != part.shape:
            continue
        probs = exact.get(name)
        if probs is not None and not sample.is_floating_point() and probs.shape[:-1] == \
                part.shape[:td.batch_dims]:
            bands[name] = probs.detach()  # the distribution's own, smoother than counts
        else:
            bands[name] = _part_band(sample, part, td.batch_dims, quantiles)
    return bands or None


def _choice_probs(dist: Any) -> dict[str, torch.Tensor]:
    """The exact choice probabilities of the categorical parts of ``dist``, by part name."""
    parts = getattr(dist, "dists", None)
    if parts is None:  # one distribution: the plain action
        parts = {"action": dist}
    out = {}
    for key, part in parts.items():
        probs = getattr(part, "probs", None)
        if isinstance(probs, torch.Tensor) and not part.has_rsample:
            # a composite's parts are keyed by where they write: ("action", "direction")
            name = key if isinstance(key, str) else ".".join(key[1:] if key[0] == "action"
                                                             else key)
            out[name] = probs
    return out


def _part_band(samples: torch.Tensor, taken: torch.Tensor, batch_dims: int,
               quantiles: tuple[float, float]) -> Any:
    """``(low, high)`` for a float part, the frequency of each choice for a discrete one."""
    if samples.is_floating_point():
        return _quantile_band(samples, quantiles)
    if taken.ndim > batch_dims and taken.shape[-1] > 1:  # one-hot
        return samples.float().mean(0)
    index = samples.reshape(*samples.shape[:batch_dims + 1]).long()
    choices = int(max(index.max(), taken.max())) + 1
    return torch.nn.functional.one_hot(index, choices).float().mean(0)
