"""Reproducible rollouts under a chosen exploration type.

>>> from rltutor import make_env, make_qvalue_policy, with_egreedy
>>> env = make_env("CartPole-v1")
>>> policy = with_egreedy(make_qvalue_policy(env), env, eps=0.5)
>>> td = rollout(env, policy, steps=50, exploration="random", seed=1, break_when_done=False)
>>> 0.0 < exploratory_steps(policy, td).float().mean().item() < 0.5
True
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from tensordict import TensorDictBase
from tensordict.nn import InteractionType
from torch.nn.parameter import UninitializedParameter
from torchrl.data import TensorSpec
from torchrl.envs.utils import set_exploration_type

from rltutor._greedy import explored_mask, is_random_policy
from rltutor._keys import as_path, env_keys, module_keys, module_steps
from rltutor._recurrent import missing_state_message
from rltutor.validation import (
    check_device,
    check_exploration,
    check_in_keys,
    check_seed,
    check_steps,
)

__all__ = [
    "deterministic_actions",
    "exploratory_steps",
    "materialize_lazy",
    "move_specs",
    "move_to_device",
    "policy_device",
    "rollout",
]


def policy_device(policy: Any) -> torch.device | None:
    """The device of the policy's first parameter or buffer (None if it has neither).

    Args:
        policy: a module (anything else has no device).

    >>> policy_device(torch.nn.Linear(2, 1))
    device(type='cpu')
    """
    if isinstance(policy, torch.nn.Module):
        for tensor in policy.parameters():
            return tensor.device
        for tensor in policy.buffers():
            return tensor.device
    return None


def move_to_device(env: Any, policy: Any, device: Any) -> torch.device:
    """Move ``policy``, ``env`` and every spec the policy's modules keep to ``device``.

    ``module.to(device)`` moves parameters and buffers, not the action spec that
    exploration modules (``EGreedyModule``, ``AdditiveGaussianModule``, OU noise) and
    safe actors keep to draw random actions or clip to bounds; a spec left behind
    makes the first exploratory step fail. Returns the device.

    Args:
        env: the environment (moved when it is elsewhere).
        policy: the policy (parameters, buffers and kept specs are moved).
        device: a device of this machine, e.g. ``"cuda:0"``.

    >>> from rltutor import make_env, make_actor, with_gaussian_noise
    >>> env = make_env("Pendulum-v1")
    >>> move_to_device(env, with_gaussian_noise(make_actor(env), env), "cpu")
    device(type='cpu')
    """
    device = check_device(device)
    if isinstance(policy, torch.nn.Module) and policy_device(policy) not in (None, device):
        policy.to(device)
    move_specs(policy, device)  # a RandomPolicy's spec too
    if torch.device(getattr(env, "device", None) or "cpu") != device:
        env.to(device)
    return device


def move_specs(policy: Any, device: Any) -> list[torch.nn.Module]:
    """Move the specs kept by ``policy``'s modules to ``device``; returns the modules moved.

    The half of a move that ``policy.to(device)`` leaves out (see :func:`move_to_device`).
    No check that ``device`` exists here, so ``"meta"`` works for a test.

    Args:
        policy: the policy whose modules' specs move.
        device: any torch device.

    >>> from torchrl.data import Bounded
    >>> from torchrl.modules import AdditiveGaussianModule
    >>> noise = AdditiveGaussianModule(spec=Bounded(-1.0, 1.0, shape=(1,)))
    >>> len(move_specs(noise, "meta")), noise.spec.device
    (1, device(type='meta'))
    """
    device = torch.device(device)
    moved = []
    modules = policy.modules() if isinstance(policy, torch.nn.Module) else ()
    for module in modules:
        spec = getattr(module, "_spec", None)  # where TorchRL's modules keep it
        if isinstance(spec, TensorSpec) and _spec_device(spec) != device:
            module._spec = spec.to(device)
            moved.append(module)
    spec = getattr(policy, "action_spec", None)  # RandomPolicy draws from its own copy
    if is_random_policy(policy) and isinstance(spec, TensorSpec) and _spec_device(spec) != device:
        policy.action_spec = spec.to(device)
        moved.append(policy)
    return moved


def _spec_device(spec: Any) -> torch.device | None:
    """The device of a spec's first leaf (a Composite's own device may be None)."""
    if spec.device is not None:
        return torch.device(spec.device)
    leaves = spec.values(True, True) if hasattr(spec, "values") else ()
    for leaf in leaves:
        if getattr(leaf, "device", None) is not None:
            return torch.device(leaf.device)
    return None


def _check_same_device(env: Any, policy: Any) -> None:
    env_dev, pol_dev = getattr(env, "device", None), policy_device(policy)
    if env_dev is not None and pol_dev is not None and torch.device(env_dev) != pol_dev:
        raise ValueError(
            f"the policy is on {pol_dev} but the environment is on {env_dev}; "
            f"move both to one device, e.g. policy.to('{env_dev}')"
        )


def check_policy_inputs(policy: Any, td: Any) -> None:
    """``check_in_keys`` for the keys ``policy`` needs from outside.

    Keys an earlier step of the policy writes are not the caller's to provide (the rule
    is ``rltutor._keys.env_keys``, the one ``dataflow`` and ``check_policy`` use): a
    composite actor reads ``"params"`` that its network fills in leaf by leaf.

    Args:
        policy: the policy about to run.
        td: the TensorDict it will read (e.g. ``env.reset()``).

    >>> from tensordict import TensorDict
    >>> from tensordict.nn import TensorDictModule
    >>> policy = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["obs"], out_keys=["action"])
    >>> check_policy_inputs(policy, TensorDict(observation=torch.zeros(3)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: TensorDictModule reads 'obs' but the TensorDict has no such key; it has: ...
    """
    # a recurrent module's missing state has one fix, its primer: say so by name
    primer = missing_state_message(policy, {as_path(k) for k in td.keys(include_nested=True)})
    if primer is not None:
        raise ValueError(primer)
    external = env_keys(policy)
    # same name in the message, only the keys the caller must provide
    needs = type(type(policy).__name__, (), {"in_keys": external})()
    check_in_keys(needs, td)


def materialize_lazy(env: Any, policy: Any) -> None:
    """Give lazy layers their weights now, with one policy call on ``env.reset()``.

    Args:
        env: the environment the policy will run in.
        policy: the policy; one without lazy layers is left alone.

    >>> from tensordict.nn import TensorDictModule
    >>> from rltutor import make_env
    >>> policy = TensorDictModule(torch.nn.LazyLinear(1), in_keys=["observation"],
    ...                           out_keys=["action"])
    >>> materialize_lazy(make_env("Pendulum-v1"), policy)
    >>> policy.module.weight.shape
    torch.Size([1, 3])
    """
    # Lazy layers (MLP without in_features) draw their weights on the first call, from
    # the global RNG. Doing that before we seed keeps rollout N and rollout N+1 with the
    # same seed identical; otherwise the first one would use different random numbers.
    if isinstance(policy, torch.nn.Module) and any(
        isinstance(p, UninitializedParameter) for p in policy.parameters()
    ):
        with torch.no_grad():
            td = env.reset()
            check_policy_inputs(policy, td)
            policy(td)


def rollout(
    env: Any,
    policy: Any,
    *,
    steps: int = 200,
    exploration: Any = None,
    seed: int | None = None,
    break_when_done: bool = True,
) -> TensorDictBase:
    """``env.rollout(steps, policy)`` with checked inputs, and three opt-in additions.

    With no keyword beyond ``steps`` it does what ``env.rollout(steps, policy)`` does:
    no exploration type is set (the current one applies: outside any
    ``set_exploration_type`` block exploration modules explore), it stops at the first
    ``done``, it leaves torch's global generator alone, and it records gradients if
    the caller does (wrap it in ``torch.no_grad()`` to collect data). What it adds is
    asked for by keyword:

    * ``seed=``: seed torch's global generator and the environment first, so the same
      call gives the same rollout (lazy layers get their weights before the seeding);
    * ``exploration=``: run under that exploration type (``"deterministic"``,
      ``"random"``, ``"mode"``, ``"mean"``, ``"median"`` or an ``ExplorationType``);
    * ``break_when_done=False``: reset episodes that end and go on (their ends show up
      in ``("next", "done")``) until ``steps`` steps are taken.

    Before stepping it checks that the policy finds every key it reads in the first
    TensorDict, and says which is missing.

    Args:
        env: a TorchRL environment.
        policy: a TensorDict module reading what the environment provides.
        steps: how many steps at most (a positive integer).
        exploration: the exploration type; ``None`` (default) sets none.
        seed: seeds torch's global generator and the environment; ``None`` (default)
            seeds nothing.
        break_when_done: stop at the first episode end (default, as ``env.rollout``);
            ``False`` resets and goes on.

    >>> from rltutor import make_env, make_actor
    >>> env = make_env("Pendulum-v1")
    >>> policy = make_actor(env)
    >>> td = rollout(env, policy, steps=10, seed=0)
    >>> _ = torch.manual_seed(0), env.set_seed(0)
    >>> (td == env.rollout(10, policy)).all()  # the same as env.rollout
    True
    """
    steps = check_steps(steps)
    exploration_type = None if exploration is None else check_exploration(exploration)
    seed = None if seed is None else check_seed(seed)
    _check_same_device(env, policy)
    if seed is not None:
        materialize_lazy(env, policy)
        torch.manual_seed(seed)
        env.set_seed(seed)
    # None keeps the caller's type: set_exploration_type(None) would override it
    context = nullcontext() if exploration_type is None else set_exploration_type(exploration_type)
    with context:
        td = env.reset()
        check_policy_inputs(policy, td)
        return env.rollout(
            steps,
            policy,
            tensordict=td,
            auto_reset=False,
            break_when_any_done=break_when_done,
        )


def deterministic_actions(policy: Any, td: TensorDictBase) -> torch.Tensor:
    """The action ``policy`` picks for each step's inputs with exploration turned off.

    Args:
        policy: the policy that made the rollout.
        td: the rollout (its root entries are the inputs of each step).

    >>> from rltutor import make_env, make_actor, with_gaussian_noise
    >>> env = make_env("Pendulum-v1")
    >>> actor = make_actor(env)
    >>> td = rollout(env, with_gaussian_noise(actor, env), steps=5, exploration="random")
    >>> torch.equal(deterministic_actions(actor, td), actor(td.exclude("action"))["action"])
    True
    """
    if is_random_policy(policy):
        raise ValueError(
            "RandomPolicy has no deterministic action: every action is a draw from its "
            "spec, whatever the exploration type (the explorer marks every step)"
        )
    rewritten = _rewritten_inputs(policy)
    if rewritten:
        raise ValueError(
            f"{type(policy).__name__} rewrites {', '.join(map(repr, rewritten))} in place, so "
            "the rollout holds the rewritten value, not what the policy read: running it "
            "again on the rollout gives other actions. Record the deterministic action "
            "while the rollout runs: with record_greedy(policy, exploration) as recorder: "
            "td = rollout(...); then greedy, explored = recorder.result(td)  "
            "(from rltutor.rollouts)"
        )
    keys = [k for k in getattr(policy, "in_keys", ()) if k in td.keys(include_nested=True)]
    inputs = td.select(*keys).clone() if keys else td.exclude("next").clone()
    with torch.no_grad(), set_exploration_type(InteractionType.DETERMINISTIC):
        return policy(inputs)["action"]


def _rewritten_inputs(policy: Any) -> list[str]:
    """Keys ``policy`` reads from the environment and then overwrites (ObservationNorm inside
    a policy, an LSTM whose out_key is its in_key)."""
    needed = set(env_keys(policy))
    return [".".join(k) for step, _ in module_steps(policy)
            for k in module_keys(step, "out_keys") if k in needed]


def exploratory_steps(policy: Any, td: TensorDictBase, *, atol: float = 1e-5) -> torch.Tensor:
    """A bool per step: True where the action taken differs from the deterministic one.

    An e-greedy step that picked another action than the greedy one counts, and so does
    a sample from a probabilistic policy that landed away from its deterministic value.
    The mask has the rollout's batch shape: ``[T]``, or ``[envs, T]`` for batched envs.

    Args:
        policy: the policy that made the rollout.
        td: the rollout.
        atol: how far a continuous action may be from the deterministic one and still
            count as the same.

    >>> from rltutor import make_env, make_actor
    >>> env = make_env("Pendulum-v1")
    >>> actor = make_actor(env)
    >>> exploratory_steps(actor, rollout(env, actor, steps=5)).any().item()
    False
    """
    return explored_mask(td["action"], deterministic_actions(policy, td), atol=atol,
                         batch_dims=td.batch_dims)
