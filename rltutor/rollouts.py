"""Reproducible rollouts under a chosen exploration type.

>>> td = rollout(env, policy, steps=50, exploration="random", seed=1)  # doctest: +SKIP
>>> exploratory_steps(policy, td).float().mean()                      # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from rltutor.envs import check_seed
from rltutor.validation import check_exploration, check_in_keys, check_steps

if TYPE_CHECKING:  # pragma: no cover
    from tensordict import TensorDictBase

__all__ = [
    "deterministic_actions",
    "explored_mask",
    "exploratory_steps",
    "materialize_lazy",
    "policy_device",
    "rollout",
]


def policy_device(policy: Any) -> torch.device | None:
    """The device of the policy's first parameter or buffer (None if it has neither).

    >>> policy_device(torch.nn.Linear(2, 1))
    device(type='cpu')
    """
    if isinstance(policy, torch.nn.Module):
        for tensor in policy.parameters():
            return tensor.device
        for tensor in policy.buffers():
            return tensor.device
    return None


def _check_same_device(env: Any, policy: Any) -> None:
    env_dev, pol_dev = getattr(env, "device", None), policy_device(policy)
    if env_dev is not None and pol_dev is not None and torch.device(env_dev) != pol_dev:
        raise ValueError(
            f"the policy is on {pol_dev} but the environment is on {env_dev}; "
            f"move both to one device, e.g. policy.to('{env_dev}')"
        )


def materialize_lazy(env: Any, policy: Any) -> None:
    """Give lazy layers their weights now, with one policy call on ``env.reset()``."""
    # Lazy layers (MLP without in_features) draw their weights on the first call, from
    # the global RNG. Doing that before we seed keeps rollout N and rollout N+1 with the
    # same seed identical; otherwise the first one would use different random numbers.
    from torch.nn.parameter import UninitializedParameter

    if isinstance(policy, torch.nn.Module) and any(
        isinstance(p, UninitializedParameter) for p in policy.parameters()
    ):
        with torch.no_grad():
            td = env.reset()
            check_in_keys(policy, td)
            policy(td)


def rollout(
    env: Any,
    policy: Any,
    *,
    steps: int = 200,
    exploration: Any = "deterministic",
    seed: int = 0,
    break_when_done: bool = False,
) -> TensorDictBase:
    """Run ``policy`` in ``env`` for ``steps`` steps under one exploration type.

    Seeds torch's global generator and the environment with ``seed`` first, so the same
    inputs give the same rollout. ``exploration`` is any of TorchRL's exploration types
    (``"deterministic"``, ``"random"``, ``"mode"``, ``"mean"``, ``"median"``, or an
    ``ExplorationType``). Episodes that end are reset and the rollout goes on (their
    ends show up in ``("next", "done")``) unless ``break_when_done=True``. Runs under
    ``torch.no_grad()``.

    >>> td = rollout(make_env("Pendulum-v1"), policy, steps=10)  # doctest: +SKIP
    >>> td.batch_size                                            # doctest: +SKIP
    torch.Size([10])
    """
    from torchrl.envs.utils import set_exploration_type

    steps = check_steps(steps)
    exploration_type = check_exploration(exploration)
    seed = check_seed(seed)
    _check_same_device(env, policy)
    materialize_lazy(env, policy)
    torch.manual_seed(seed)
    env.set_seed(seed)
    with torch.no_grad(), set_exploration_type(exploration_type):
        td = env.reset()
        check_in_keys(policy, td)
        return env.rollout(
            steps,
            policy,
            tensordict=td,
            auto_reset=False,
            break_when_any_done=break_when_done,
        )


def deterministic_actions(policy: Any, td: TensorDictBase) -> torch.Tensor:
    """The action ``policy`` picks for each step's inputs with exploration turned off.

    >>> greedy = deterministic_actions(policy, rollout_td)  # doctest: +SKIP
    """
    from tensordict.nn import InteractionType
    from torchrl.envs.utils import set_exploration_type

    keys = [k for k in getattr(policy, "in_keys", ()) if k in td.keys(include_nested=True)]
    inputs = td.select(*keys).clone() if keys else td.exclude("next").clone()
    with torch.no_grad(), set_exploration_type(InteractionType.DETERMINISTIC):
        return policy(inputs)["action"]


def exploratory_steps(policy: Any, td: TensorDictBase, *, atol: float = 1e-5) -> torch.Tensor:
    """A bool per step: True where the action taken differs from the deterministic one.

    An e-greedy step that picked another action than the greedy one counts, and so does
    a sample from a probabilistic policy that landed away from its deterministic value.

    >>> exploratory_steps(policy, rollout_td).float().mean()  # doctest: +SKIP
    """
    return explored_mask(td["action"], deterministic_actions(policy, td), atol=atol)


def explored_mask(taken: torch.Tensor, greedy: torch.Tensor, *, atol: float = 1e-5) -> torch.Tensor:
    """A bool per step: where the action ``taken`` is not the ``greedy`` (deterministic) one.

    >>> explored_mask(torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [0.5]]))
    tensor([False,  True])
    """
    greedy = greedy.to(taken.device)
    if taken.is_floating_point():
        diff = (taken - greedy).abs().reshape(taken.shape[0], -1)
        return (diff > atol).any(-1)
    return (taken != greedy).reshape(taken.shape[0], -1).any(-1)
