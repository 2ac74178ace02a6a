"""Solutions to lesson 14's exercises (plain functions; tests import this file by path)."""

from __future__ import annotations

from tensordict.nn import TensorDictSequential
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import OrnsteinUhlenbeckProcessModule

# Exercise 1's prediction: the same sigma is not the same noise. OU starts from 0 at each
# episode's first step and moves by kicks of sigma x sqrt(dt) = 0.2 x 0.1 = 0.02, so over
# the first 20 steps it strays only ~0.02 x sqrt(20) ~ 0.09 from the actor's torque at
# most; the Gaussian module adds a fresh 0.2-sized draw every step (mean |.| ~ 0.16).
OU_PREDICTION = "gaussian"

# Exercise 2: the final SAC actor samples more widely than the target entropy (-1 for a
# one-dimensional action) asks, so the gap is positive and alpha keeps falling.
ALPHA_WILL = "fall"


def solve_ou_collecting(td3_actor, spec):
    """Exercise 1: TD3's actor, then lesson 04's OU noise (sigma 0.2, theta 0.15)."""
    return TensorDictSequential(
        td3_actor, OrnsteinUhlenbeckProcessModule(spec=spec, sigma=0.2, theta=0.15))


def solve_entropy_gap(loss_fn, batch):
    """Exercise 2: entropy estimate (-mean log-prob of sampled actions) minus the target."""
    with set_exploration_type(ExplorationType.RANDOM):
        sampled = loss_fn.actor_network(batch.select("observation").clone())
    entropy = -sampled["action_log_prob"].detach().mean()
    return float(entropy - loss_fn.target_entropy)
