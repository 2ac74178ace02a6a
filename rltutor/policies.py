"""Builders for every policy type the lessons teach, sized from an environment's specs.

Each builder returns plain TorchRL / tensordict modules (nothing subclassed, no hidden
state), so what a lesson builds by hand and what a builder returns print the same.
Weights are drawn from a private random stream seeded by ``seed``: two calls with the
same seed give the same policy, and the global torch RNG is left untouched.

    >>> from rltutor import make_env, make_actor
    >>> env = make_env("Pendulum-v1")
    >>> policy = make_actor(env, num_cells=(32, 32))
    >>> policy(env.reset())["action"].shape
    torch.Size([1])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch
from tensordict.nn import (
    NormalParamExtractor,
    TensorDictModule,
    TensorDictModuleBase,
    TensorDictSequential,
)
from torch import nn
from torch.distributions import Categorical, Normal
from torchrl.data import OneHot
from torchrl.modules import (
    MLP,
    Actor,
    AdditiveGaussianModule,
    EGreedyModule,
    OneHotCategorical,
    OrnsteinUhlenbeckProcessModule,
    ProbabilisticActor,
    QValueModule,
    TanhNormal,
)

from rltutor.validation import check_epsilon

if TYPE_CHECKING:
    from torchrl.envs import EnvBase

__all__ = ["make_actor", "make_categorical_actor", "make_deterministic_policy",
           "make_gaussian_actor", "make_qvalue_policy", "with_egreedy", "with_gaussian_noise",
           "with_ou_noise"]

Hidden = int | Sequence[int]


@contextmanager
def _seeded(seed: int | None):
    # Weights come from a forked RNG so building a policy never shifts the learner's
    # own random stream (and so a rollout seeded later is unaffected).
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _widths(num_cells: Hidden) -> list[int]:
    # MLP reads an int num_cells as "this width, but how many layers?" and needs a depth;
    # here an int means one hidden layer of that width.
    return [int(num_cells)] if isinstance(num_cells, int) else [int(n) for n in num_cells]


def _sizes(env: EnvBase) -> tuple[int, int]:
    obs_spec = env.observation_spec.get("observation", None)
    if obs_spec is None:
        keys = list(env.observation_spec.keys(True, True))
        raise ValueError(
            "rltutor's builders read the 'observation' entry of the environment, but "
            f"{type(env).__name__} has only {keys}; build the policy by hand with in_keys={keys}"
        )
    return obs_spec.shape[-1], env.action_spec.shape[-1]


def make_deterministic_policy(env: EnvBase, *, seed: int | None = 0) -> TensorDictModule:
    """A linear map from ``observation`` to ``action`` wrapped in a ``TensorDictModule``.

    Introduced in lesson 01 (there with ``LazyLinear``; here sized from the specs).

    Args:
        env: the environment whose ``observation`` and action specs size the layer.
        seed: seed of the weights (drawn from a private stream); None uses the global RNG.

    >>> from rltutor import make_env
    >>> policy = make_deterministic_policy(make_env("Pendulum-v1"))
    >>> policy.in_keys, policy.out_keys
    (['observation'], ['action'])
    """
    n_obs, n_act = _sizes(env)
    with _seeded(seed):
        linear = nn.Linear(n_obs, n_act, device=env.device)
    return TensorDictModule(linear, in_keys=["observation"], out_keys=["action"])


def make_actor(
    env: EnvBase,
    *,
    num_cells: Hidden = (64, 64),
    activation: type[nn.Module] = nn.Tanh,
    seed: int | None = 0,
) -> Actor:
    """An ``Actor`` (reads ``observation``, writes ``action``) around an ``MLP``.

    Introduced in lesson 02.

    Args:
        env: the environment whose specs size the network (and bound the action).
        num_cells: hidden widths, e.g. ``(64, 64)``; an int is one hidden layer.
        activation: the activation class between layers.
        seed: seed of the weights (drawn from a private stream); None uses the global RNG.

    >>> from rltutor import make_env
    >>> make_actor(make_env("Pendulum-v1"), num_cells=32).out_keys
    ['action']
    """
    n_obs, n_act = _sizes(env)
    with _seeded(seed):
        net = MLP(
            in_features=n_obs,
            out_features=n_act,
            num_cells=_widths(num_cells),
            activation_class=activation,
            device=env.device,
        )
    return Actor(net, spec=env.action_spec)


def make_gaussian_actor(
    env: EnvBase,
    *,
    bounded: bool = True,
    num_cells: Hidden = (64, 64),
    seed: int | None = 0,
) -> ProbabilisticActor:
    """A ``ProbabilisticActor`` sampling a continuous action from a Gaussian.

    The backbone writes ``loc`` and ``scale`` (via ``NormalParamExtractor``); with
    ``bounded=True`` the distribution is a ``TanhNormal`` squashed into the action
    spec's bounds, otherwise a plain ``Normal`` that can leave them. The log-probability
    of each sampled action is written to ``action_log_prob``. Introduced in lesson 03.

    Args:
        env: the environment whose specs size the network and bound the action.
        bounded: a ``TanhNormal`` inside the spec's bounds (True) or a plain ``Normal``.
        num_cells: hidden widths; an int is one hidden layer.
        seed: seed of the weights (drawn from a private stream); None uses the global RNG.

    >>> from rltutor import make_env
    >>> actor = make_gaussian_actor(make_env("Pendulum-v1"))
    >>> actor.out_keys
    ['loc', 'scale', 'action', 'action_log_prob']
    """
    n_obs, n_act = _sizes(env)
    with _seeded(seed):
        net = MLP(in_features=n_obs, out_features=2 * n_act, num_cells=_widths(num_cells),
                  device=env.device)
    backbone = TensorDictModule(
        nn.Sequential(net, NormalParamExtractor()),
        in_keys=["observation"],
        out_keys=["loc", "scale"],
    )
    spec = env.action_spec
    if bounded:
        dist_class: Callable = TanhNormal
        dist_kwargs = {"low": spec.space.low, "high": spec.space.high}
    else:
        dist_class, dist_kwargs = Normal, {}
    return ProbabilisticActor(
        backbone,
        in_keys=["loc", "scale"],
        spec=spec,
        distribution_class=dist_class,
        distribution_kwargs=dist_kwargs,
        return_log_prob=True,
    )


def make_categorical_actor(
    env: EnvBase, *, num_cells: Hidden = (64,), seed: int | None = 0
) -> ProbabilisticActor:
    """A ``ProbabilisticActor`` choosing a discrete action from ``logits``.

    One-hot action specs (CartPole's) get a ``OneHotCategorical``, integer specs a
    ``Categorical``. Introduced in lesson 03.

    Args:
        env: an environment with a discrete action spec (one-hot or integer).
        num_cells: hidden widths; an int is one hidden layer.
        seed: seed of the weights (drawn from a private stream); None uses the global RNG.

    >>> from rltutor import make_env
    >>> make_categorical_actor(make_env("CartPole-v1")).out_keys
    ['logits', 'action', 'action_log_prob']
    """
    n_obs, n_act = _sizes(env)
    spec = env.action_spec
    n_act = spec.space.n
    with _seeded(seed):
        net = MLP(in_features=n_obs, out_features=n_act, num_cells=_widths(num_cells),
                  device=env.device)
    return ProbabilisticActor(
        TensorDictModule(net, in_keys=["observation"], out_keys=["logits"]),
        in_keys=["logits"],
        spec=spec,
        distribution_class=OneHotCategorical if isinstance(spec, OneHot) else Categorical,
        return_log_prob=True,
    )


def make_qvalue_policy(
    env: EnvBase, *, num_cells: Hidden = (64,), seed: int | None = 0
) -> TensorDictSequential:
    """A value network writing ``action_value``, then ``QValueModule`` picking the argmax.

    The result writes ``action``, ``action_value`` and ``chosen_action_value``.
    Introduced in lesson 05.

    Args:
        env: an environment with a discrete action spec.
        num_cells: hidden widths; an int is one hidden layer.
        seed: seed of the weights (drawn from a private stream); None uses the global RNG.

    >>> from rltutor import make_env
    >>> make_qvalue_policy(make_env("CartPole-v1")).out_keys
    ['action', 'action_value', 'chosen_action_value']
    """
    n_obs, _ = _sizes(env)
    spec = env.action_spec
    with _seeded(seed):
        net = MLP(in_features=n_obs, out_features=spec.space.n, num_cells=_widths(num_cells),
                  device=env.device)
    value_net = TensorDictModule(net, in_keys=["observation"], out_keys=["action_value"])
    return TensorDictSequential(value_net, QValueModule(spec=spec))


def _explore(policy: TensorDictModuleBase, noise: TensorDictModuleBase) -> TensorDictSequential:
    return TensorDictSequential(policy, noise)


def with_egreedy(
    policy: TensorDictModuleBase,
    env: EnvBase,
    *,
    eps: float = 0.1,
    eps_end: float | None = None,
    annealing_num_steps: int = 1000,
) -> TensorDictSequential:
    """``policy`` followed by an ``EGreedyModule`` that replaces the action at random.

    With probability ``eps`` each step's action is drawn uniformly from the action
    spec. ``eps`` stays fixed unless ``eps_end`` is given, in which case each call to
    ``.step()`` on the module anneals it linearly over ``annealing_num_steps`` calls.
    Exploration happens only under ``ExplorationType.RANDOM`` (or no context).
    Introduced in lesson 04.

    Args:
        policy: the policy whose action gets replaced.
        env: the environment whose action spec the random actions come from.
        eps: the probability of a random action, in [0, 1].
        eps_end: where ``eps`` ends after annealing; None keeps it fixed.
        annealing_num_steps: ``.step()`` calls from ``eps`` to ``eps_end``.

    >>> from rltutor import make_env
    >>> env = make_env("CartPole-v1")
    >>> explorer = with_egreedy(make_qvalue_policy(env), env, eps=0.2)
    >>> explorer[-1].eps
    tensor(0.2000)
    """
    eps = check_epsilon(eps)
    end = eps if eps_end is None else check_epsilon(eps_end)
    egreedy = EGreedyModule(
        spec=env.action_spec,
        eps_init=eps,
        eps_end=end,
        annealing_num_steps=annealing_num_steps,
    )
    return _explore(policy, egreedy)


def with_gaussian_noise(
    policy: TensorDictModuleBase,
    env: EnvBase,
    *,
    sigma: float = 0.1,
    sigma_end: float | None = None,
    annealing_num_steps: int = 1000,
) -> TensorDictSequential:
    """``policy`` followed by ``AdditiveGaussianModule``: independent noise every step.

    The noisy action is clipped to the action spec. Introduced in lesson 04.

    Args:
        policy: the policy whose action gets noise.
        env: the environment whose action spec bounds the noisy action.
        sigma: the noise's standard deviation (>= 0).
        sigma_end: where ``sigma`` ends after annealing; None keeps it fixed.
        annealing_num_steps: ``.step()`` calls from ``sigma`` to ``sigma_end``.

    >>> from rltutor import make_env
    >>> env = make_env("Pendulum-v1")
    >>> type(with_gaussian_noise(make_actor(env), env, sigma=0.3)[-1]).__name__
    'AdditiveGaussianModule'
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    noise = AdditiveGaussianModule(
        spec=env.action_spec,
        sigma_init=sigma,
        sigma_end=sigma if sigma_end is None else sigma_end,
        annealing_num_steps=annealing_num_steps,
    )
    return _explore(policy, noise)


def with_ou_noise(
    policy: TensorDictModuleBase,
    env: EnvBase,
    *,
    sigma: float = 0.2,
    theta: float = 0.15,
) -> TensorDictSequential:
    """``policy`` followed by ``OrnsteinUhlenbeckProcessModule``: temporally correlated noise.

    The noise state lives in the TensorDict (``_ou_prev_noise``, ``_ou_steps``) and is
    reset where ``is_init`` is true. Without an ``InitTracker`` transform on the
    environment it still runs, but warns on every call and carries noise across episode
    boundaries: add ``InitTracker()`` to the env. Introduced in lesson 04.

    Args:
        policy: the policy whose action gets noise.
        env: the environment whose action spec bounds the noisy action.
        sigma: the scale of the noise (>= 0).
        theta: how fast the noise is pulled back to zero (>= 0).

    >>> from rltutor import make_env
    >>> env = make_env("Pendulum-v1")
    >>> type(with_ou_noise(make_actor(env), env)[-1]).__name__
    'OrnsteinUhlenbeckProcessModule'
    """
    if sigma < 0 or theta < 0:
        raise ValueError(f"sigma and theta must be >= 0, got sigma={sigma}, theta={theta}")
    noise = OrnsteinUhlenbeckProcessModule(
        spec=env.action_spec, sigma=sigma, theta=theta, annealing_num_steps=1
    )
    return _explore(policy, noise)
