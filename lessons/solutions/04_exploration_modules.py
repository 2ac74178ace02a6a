"""Solutions to lesson 04's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

from tensordict.nn import TensorDictModuleBase, TensorDictSequential
from torchrl.envs import EnvBase
from torchrl.modules import AdditiveGaussianModule, EGreedyModule


def solve_annealed_egreedy(env: EnvBase) -> EGreedyModule:
    """Epsilon from 1.0 down to 0.05 over 500 calls to ``.step()``."""
    return EGreedyModule(spec=env.action_spec, eps_init=1.0, eps_end=0.05, annealing_num_steps=500)


def solve_noisy_policy(policy: TensorDictModuleBase, env: EnvBase) -> TensorDictSequential:
    """``policy`` plus Gaussian noise of scale 0.5 that never anneals."""
    noise = AdditiveGaussianModule(spec=env.action_spec, sigma_init=0.5, sigma_end=0.5)
    return TensorDictSequential(policy, noise)
