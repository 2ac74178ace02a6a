"""Where a noise module puts the actions: the band of its noise around the unperturbed action.

``AdditiveGaussianModule`` and ``OrnsteinUhlenbeckProcessModule`` perturb every step, so
a mark on every perturbed step says nothing. What helps is the unperturbed action and
the band the noise spreads it over, from the module's own parameters:

* Gaussian: ``action + sigma * N(mean, std)``: the band is ``sigma * (mean ± z * std)``
  around the unperturbed action (``z`` = 1.645 for 5-95 %);
* OU: the noise is a random walk pulled back to ``mu``, restarted at each episode, and
  scaled by ``eps``. After ``n`` steps its mean and variance follow the recursion
  ``m' = m + theta (mu - m) dt``, ``v' = (1 - theta dt)^2 v + sigma_n^2 dt``, so the
  band widens from the start of each episode.

Both modules clip (project) the result into the action spec; so does the band.

    >>> import rltutor
    >>> from torchrl.modules import AdditiveGaussianModule
    >>> from tensordict.nn import TensorDictSequential
    >>> env = rltutor.make_env("Pendulum-v1")
    >>> noise = AdditiveGaussianModule(spec=env.action_spec, sigma_init=0.5)
    >>> low, high = noise_band(noise, torch.zeros(3, 1))
    >>> [round(float(x), 3) for x in (low[0, 0], high[0, 0])]
    [-0.822, 0.822]
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import torch

from rltutor._exploration import exploration_class

__all__ = ["noise_band"]


def _clip(x: torch.Tensor, spec: Any) -> torch.Tensor:
    low, high = getattr(spec, "low", None), getattr(spec, "high", None)
    if low is None or high is None:
        return x
    # a batched env's spec repeats the bounds per env: the last dim's bounds apply to all
    low, high = (b.to(x).reshape(-1)[-x.shape[-1]:] for b in (low, high))
    return torch.maximum(torch.minimum(x, high), low)


def noise_band(
    module: Any, greedy: torch.Tensor, td: Any = None, *,
    quantiles: tuple[float, float] = (0.05, 0.95),
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The ``quantiles`` of the action ``module`` makes of the unperturbed ``greedy`` one.

    Returns ``(low, high)`` shaped like ``greedy``, or None for a module that is not one
    of TorchRL's noise modules (or an OU rollout without its step counter).

    Args:
        module: an ``AdditiveGaussianModule`` or ``OrnsteinUhlenbeckProcessModule``.
        greedy: the action before the noise, per step (``[T, A]`` or ``[envs, T, A]``).
        td: the rollout; OU reads how many steps each episode had run (``_ou_steps``).
        quantiles: the low and high probability of the band, ``0 <= low < high <= 1``.
    """
    low_q, high_q = quantiles
    if not 0.0 < low_q < high_q < 1.0:
        raise ValueError(f"quantiles must be (low, high) with 0 < low < high < 1, got "
                         f"{quantiles!r}")
    z_low, z_high = NormalDist().inv_cdf(low_q), NormalDist().inv_cdf(high_q)
    kind = exploration_class(module)
    greedy = greedy.detach().float()
    with torch.no_grad():
        if kind == "AdditiveGaussianModule":
            sigma = float(module.sigma)
            mean, std = float(module.mean), float(module.std)
            low = greedy + sigma * (mean + z_low * std)
            high = greedy + sigma * (mean + z_high * std)
            spec = module.spec[module.action_key]
        elif kind == "OrnsteinUhlenbeckProcessModule":
            steps = td.get(module.ou.steps_key, None) if td is not None else None
            if steps is None:
                return None
            mean, std = _ou_moments(module, steps.to(greedy.device))
            mean, std = mean.reshape(*mean.shape, *[1] * (greedy.ndim - mean.ndim)), \
                std.reshape(*std.shape, *[1] * (greedy.ndim - std.ndim))
            low, high = greedy + mean + z_low * std, greedy + mean + z_high * std
            spec = module.spec[module.ou.key] if module.safe else None
        else:
            return None
    return _clip(low, spec), _clip(high, spec)


def _ou_moments(module: Any, steps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of ``eps * noise`` after ``steps`` steps of an episode
    (``steps`` as the module stored it: counted after its own update, so >= 1)."""
    ou, eps = module.ou, float(module.eps)
    decay = 1.0 - ou.theta * ou.dt
    x0 = float(torch.as_tensor(ou.x0).float().mean())  # a per-dim x0 is drawn as its mean
    longest = int(steps.max()) if steps.numel() else 0
    means, variances = [], []
    m, v = x0, 0.0
    for n in range(longest):
        sigma = max(ou.m * n + ou.c, ou.sigma_min)
        m = m + ou.theta * (ou.mu - m) * ou.dt
        v = decay * decay * v + sigma * sigma * ou.dt
        means.append(m)
        variances.append(v)
    table_m = torch.tensor([0.0, *means])
    table_s = torch.tensor([0.0, *(math.sqrt(x) for x in variances)])
    index = steps.long().clamp(0, longest).reshape(steps.shape).cpu()
    return eps * table_m[index], eps * table_s[index]
