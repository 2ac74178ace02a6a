"""Solutions to lesson 04's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

import numpy as np
import torch
from tensordict import TensorDict
from torchrl.data import Bounded
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import AdditiveGaussianModule


def solve_eps_after(calls: int, *, eps_init: float, eps_end: float,
                    annealing_num_steps: int) -> float:
    """Epsilon after ``calls`` calls to ``.step()``: a straight line that stops at eps_end."""
    # np.interp holds the last value past the end of the line, as .step() does
    return float(np.interp(calls, [0, annealing_num_steps], [eps_init, eps_end]))


def solve_throttle_noise() -> tuple[AdditiveGaussianModule, float]:
    """Noise whose std is 10 % of a [0, 1] throttle's range, and its std as measured."""
    throttle_spec = Bounded(low=0.0, high=1.0, shape=(1,))
    # the noise is sigma * N(mean, std): with std=1 (the default), sigma is the std
    throttle_noise = AdditiveGaussianModule(spec=throttle_spec, sigma_init=0.1, sigma_end=0.1)
    half = TensorDict({"action": torch.full((5000, 1), 0.5)}, batch_size=[5000])
    with set_exploration_type(ExplorationType.RANDOM), torch.no_grad():
        measured_std = float((throttle_noise(half.clone())["action"] - 0.5).std())
    return throttle_noise, measured_std
