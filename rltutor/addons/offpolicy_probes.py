"""Measurements of an off-policy actor-critic (lesson 14): exploration spread, twin critics.

Pure functions of modules and tensors, no plotting: how widely a collecting policy spreads
its actions around the greedy one (SAC's learned scale against TD3's fixed noise), what
each of a loss module's Q critics predicts along an episode next to the discounted
return-to-go that followed, and a critic's value over the pendulum's (angle, speed) plane.
Every function that draws random numbers does it on a forked RNG: calling one in the middle
of a training loop leaves the loop's random stream as it was.

>>> import torch
>>> pendulum_observations(4)[:, 0].tolist()  # cos(angle): hanging down at the ends
[-1.0, 0.0, 1.0, 0.0]
"""

from __future__ import annotations

import math
from typing import Any

import torch
from tensordict import TensorDict
from torchrl.envs.utils import ExplorationType, set_exploration_type

__all__ = ["action_spread", "checkpoint_view", "critic_predictions", "discounted_return_to_go",
           "pendulum_observations", "value_map"]


def pendulum_observations(count: int = 32, *, speed: float = 0.0) -> torch.Tensor:
    """Pendulum observations ``(cos θ, sin θ, θ̇)`` at ``count`` angles from -π to π.

    A fixed probe set: the same states at every checkpoint, so numbers measured on them
    compare across training.

    Args:
        count: how many angles, >= 2, evenly spaced from -π (hanging down) through 0
            (upright) to just below π.
        speed: the angular velocity θ̇ of every state.

    >>> pendulum_observations(2, speed=1.0).tolist()
    [[-1.0, 0.0, 1.0], [1.0, 0.0, 1.0]]
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 2:
        raise ValueError(f"count must be a whole number >= 2, got {count!r}")
    angle = -math.pi + 2 * math.pi * torch.arange(count) / count
    obs = torch.stack([angle.cos(), angle.sin(), torch.full_like(angle, float(speed))], -1)
    return obs.round(decimals=6) + 0.0  # + 0.0: no negative zeros in printed values


def action_spread(
    policy: Any,
    observations: torch.Tensor,
    *,
    samples: int = 64,
    seed: int = 0,
) -> float:
    """How far a collecting policy's actions scatter: the std of its actions per state.

    Runs ``policy`` under ``ExplorationType.RANDOM`` ``samples`` times on each observation
    and returns the mean, over observations, of the standard deviation of the actions
    (in the action's own units). It measures SAC's sampled actions and TD3's actor plus
    noise module the same way, clipping to the action bounds included.

    Args:
        policy: a TensorDict module reading ``"observation"`` and writing ``"action"``
            (a ``ProbabilisticActor``, or an actor followed by an exploration module).
        observations: a ``[N, obs_dim]`` tensor of states to probe.
        samples: draws per state, >= 2.
        seed: the seed of the forked RNG the draws use (the caller's RNG is untouched).

    >>> from torchrl.modules import AdditiveGaussianModule
    >>> from torchrl.data import Bounded
    >>> from tensordict.nn import TensorDictModule, TensorDictSequential
    >>> zero = TensorDictModule(lambda obs: obs[..., :1] * 0, in_keys=["observation"],
    ...                         out_keys=["action"])
    >>> spec = Bounded(-2.0, 2.0, shape=(1,))
    >>> noisy = TensorDictSequential(zero, AdditiveGaussianModule(spec=spec, sigma_init=0.2,
    ...                                                           sigma_end=0.2))
    >>> round(action_spread(noisy, pendulum_observations(8), samples=2000), 2)
    0.2
    """
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 2:
        raise ValueError(f"samples must be a whole number >= 2, got {samples!r}")
    if not isinstance(observations, torch.Tensor) or observations.dim() != 2:
        raise ValueError("observations must be a [N, obs_dim] tensor, got "
                         f"{getattr(observations, 'shape', type(observations).__name__)}")
    n = observations.shape[0]
    batch = TensorDict({"observation": observations.repeat(samples, 1)}, [samples * n])
    with torch.random.fork_rng(), torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        torch.manual_seed(seed)
        actions = policy(batch)["action"].reshape(samples, n, -1)
    return float(actions.std(dim=0).mean())


def discounted_return_to_go(rewards: torch.Tensor, *, gamma: float) -> torch.Tensor:
    """The discounted sum of the rewards from each step to the end (lesson 09's target).

    Args:
        rewards: rewards along one episode, shape ``[T]`` or ``[T, 1]``.
        gamma: the discount, in [0, 1].

    >>> discounted_return_to_go(torch.tensor([1.0, 1.0, 1.0]), gamma=0.5).tolist()
    [1.75, 1.5, 1.0]
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    returns, running = torch.zeros_like(rewards), torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def critic_predictions(loss_fn: Any, td: Any) -> torch.Tensor:
    """What each of a loss module's Q critics predicts for the (observation, action) in ``td``.

    TorchRL's ``SACLoss`` and ``TD3Loss`` keep one critic module and a stack of parameter
    sets, ``loss_fn.qvalue_network_params`` (one per critic): each set is swapped into the
    module in turn.

    Args:
        loss_fn: a loss with ``qvalue_network`` and ``qvalue_network_params``.
        td: a TensorDict with ``"observation"`` and ``"action"``, batch ``[T]``.

    Returns:
        A ``[num_critics, T]`` tensor of ``state_action_value``.

    >>> from torchrl.modules import MLP, ValueOperator
    >>> from torchrl.objectives import TD3Loss
    >>> from rltutor.envs import make_env
    >>> from rltutor.policies import make_actor
    >>> env = make_env("Pendulum-v1", seed=0)
    >>> actor = make_actor(env, num_cells=8)
    >>> critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[8]),
    ...                        in_keys=["observation", "action"])
    >>> loss_fn = TD3Loss(actor, critic, action_spec=env.action_spec)
    >>> critic_predictions(loss_fn, env.rollout(5, actor)).shape
    torch.Size([2, 5])
    """
    for attr in ("qvalue_network", "qvalue_network_params"):
        if not hasattr(loss_fn, attr):
            raise TypeError(f"loss_fn has no {attr!r}: pass a SACLoss or TD3Loss "
                            f"(got {type(loss_fn).__name__})")
    values = []
    with torch.no_grad():
        for params in loss_fn.qvalue_network_params.unbind(0):
            with params.to_module(loss_fn.qvalue_network):
                out = loss_fn.qvalue_network(td.select("observation", "action").clone())
            values.append(out["state_action_value"].reshape(-1))
    return torch.stack(values)


def value_map(
    loss_fn: Any,
    policy: Any,
    *,
    angles: int = 41,
    speeds: int = 33,
    max_speed: float = 8.0,
) -> torch.Tensor:
    """The smaller twin critic's value of the greedy action over the (angle, speed) plane.

    Args:
        loss_fn: a ``SACLoss`` or ``TD3Loss`` (its critics are read, not changed).
        policy: the actor whose greedy action is scored at each state.
        angles: grid points over θ in [-π, π] (0 = upright), >= 2.
        speeds: grid points over θ̇ in [-max_speed, max_speed], >= 2.
        max_speed: Pendulum's speed limit (8 rad/s).

    Returns:
        A ``[speeds, angles]`` tensor: rows are speeds (low to high), columns angles.

    >>> from torchrl.modules import MLP, ValueOperator
    >>> from torchrl.objectives import TD3Loss
    >>> from rltutor.envs import make_env
    >>> from rltutor.policies import make_actor
    >>> env = make_env("Pendulum-v1", seed=0)
    >>> actor = make_actor(env, num_cells=8)
    >>> critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[8]),
    ...                        in_keys=["observation", "action"])
    >>> value_map(TD3Loss(actor, critic, action_spec=env.action_spec), actor,
    ...           angles=5, speeds=3).shape
    torch.Size([3, 5])
    """
    theta = torch.linspace(-math.pi, math.pi, angles)
    omega = torch.linspace(-max_speed, max_speed, speeds)
    grid_w, grid_t = torch.meshgrid(omega, theta, indexing="ij")
    obs = torch.stack([grid_t.cos(), grid_t.sin(), grid_w], -1).reshape(-1, 3)
    td = TensorDict({"observation": obs}, [obs.shape[0]])
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        td = policy(td)
    return critic_predictions(loss_fn, td).min(0).values.reshape(speeds, angles)


def checkpoint_view(loss_fn: Any, policy: Any, env: Any, *, seed: int = 10_000,
                    steps: int = 200) -> dict[str, Any]:
    """What a checkpoint looks like: its value map and one greedy episode's path.

    Args:
        loss_fn: a ``SACLoss`` or ``TD3Loss`` holding the critics.
        policy: the actor, run greedily (``ExplorationType.DETERMINISTIC``).
        env: a Pendulum environment the training loop does not step.
        seed: the episode's seed.
        steps: the episode's length.

    Returns:
        ``{"value_map", "angle", "speed", "return"}``: the map of :func:`value_map`, the
        angle (0 upright) and speed at each step, and the episode's summed reward.

    >>> from torchrl.modules import MLP, ValueOperator
    >>> from torchrl.objectives import TD3Loss
    >>> from rltutor.envs import make_env
    >>> from rltutor.policies import make_actor
    >>> env = make_env("Pendulum-v1", seed=0)
    >>> actor = make_actor(env, num_cells=8)
    >>> critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[8]),
    ...                        in_keys=["observation", "action"])
    >>> view = checkpoint_view(TD3Loss(actor, critic, action_spec=env.action_spec), actor,
    ...                        env, steps=10)
    >>> sorted(view), len(view["angle"])
    (['angle', 'return', 'speed', 'value_map'], 10)
    """
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        env.set_seed(seed)
        td = env.rollout(steps, policy)
    obs = td["observation"]
    return {"value_map": value_map(loss_fn, policy),
            "angle": torch.atan2(obs[:, 1], obs[:, 0]), "speed": obs[:, 2].clone(),
            "return": float(td["next", "reward"].sum())}
