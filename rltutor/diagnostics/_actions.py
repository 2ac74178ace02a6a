"""Does the action a policy writes fit the environment's action spec?

One forward pass on a TensorDict shaped like the env's output (``env.fake_tensordict()``,
so the env's own state is left alone), under the deterministic exploration type, then each
action leaf is compared with its spec: shape, kind of dtype, and one-hot encoding. The
mistakes it catches run without an error, which is why they matter:

* an integer index for a one-hot spec (CartPole from ``GymEnv``): TorchRL reads a one-hot
  action with argmax, and an index tensor ``[1]`` has its maximum at position 0 whatever
  it holds, so the env always gets action 0 and the cart always goes left;
* a one-hot vector for an index (``Categorical``) spec;
* a continuous action of the wrong width: Pendulum takes the first of two values and
  ignores the second;
* integers for a continuous spec, floats for a discrete one.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from tensordict.nn import InteractionType, set_interaction_type
from torch import nn
from torch.nn.parameter import UninitializedParameter

from rltutor._keys import key_str
from rltutor.diagnostics._finding import Finding

__all__ = ["check_action_spec", "probe_actions"]


def probe_actions(policy: Any, env: Any) -> Any:
    """The TensorDict ``policy`` returns for a zero-filled env output, or None if it fails.

    Runs under the deterministic exploration type, without gradients, with torch's random
    state restored afterwards; a policy with lazy layers is copied first, so checking it
    does not decide its weights.

    Args:
        policy: anything ``env.rollout`` accepts as a policy.
        env: a TorchRL environment.

    >>> from rltutor import make_env
    >>> from torchrl.envs.utils import RandomPolicy
    >>> env = make_env("Pendulum-v1")
    >>> probe_actions(RandomPolicy(env.action_spec), env)["action"].shape
    torch.Size([1])
    """
    if isinstance(policy, nn.Module) and any(
        isinstance(p, UninitializedParameter) for p in policy.parameters()
    ):
        try:
            policy = copy.deepcopy(policy)
        except Exception:  # e.g. a transform holding its env: leave this check out
            return None
    try:
        td = env.fake_tensordict().exclude("next")
        with torch.random.fork_rng(devices=[]), torch.no_grad(), set_interaction_type(
            InteractionType.DETERMINISTIC
        ):
            out = policy(td)
    except Exception:  # the other checks (and the rollout's own error) say why
        return None
    return out if hasattr(out, "get") else None


def _spec_kind(spec: Any) -> str:
    names = {cls.__name__ for cls in type(spec).__mro__}
    if names & {"OneHot", "MultiOneHot"}:
        return "one-hot"
    if names & {"Categorical", "MultiCategorical", "Binary"}:
        return "index"
    return "continuous"


def _dtype_kind(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "bool"
    return "float" if dtype.is_floating_point else "int"


def check_action_spec(policy: Any, env: Any) -> list[Finding]:
    """A finding per action leaf whose shape, dtype or encoding disagrees with its spec.

    Args:
        policy: anything ``env.rollout`` accepts as a policy.
        env: a TorchRL environment.

    >>> from rltutor import make_env
    >>> from tensordict.nn import TensorDictModule
    >>> env = make_env("Pendulum-v1")
    >>> wide = TensorDictModule(nn.Linear(3, 2), in_keys=["observation"], out_keys=["action"])
    >>> [f.code for f in check_action_spec(wide, env)]
    ['action-shape']
    """
    out = probe_actions(policy, env)
    if out is None:
        return []
    found = []
    for key in env.action_keys:
        spec, action = env.full_action_spec[key], out.get(key, None)
        if isinstance(action, torch.Tensor):
            finding = _compare(key_str(key), action, spec)
            if finding is not None:
                found.append(finding)
    return found


def _compare(name: str, action: torch.Tensor, spec: Any) -> Finding | None:
    kind, shape = _spec_kind(spec), tuple(spec.shape)
    got = f"{str(action.dtype).removeprefix('torch.')} {list(action.shape)}"
    want = f"{type(spec).__name__} {str(spec.dtype).removeprefix('torch.')} {list(shape)}"
    n = getattr(getattr(spec, "space", None), "n", None)
    if kind == "one-hot" and tuple(action.shape) != shape:
        return Finding(
            what=f"the policy writes '{name}' as {got}, an index, but the action spec is "
                 f"one-hot ({want})",
            why="TorchRL turns a one-hot action into an index with argmax; an index tensor "
                "has its largest value at position 0 whatever it holds, so the environment "
                "gets action 0 at every step (CartPole's cart always goes left), silently",
            fix=f"write a one-hot vector: QValueModule(spec=env.action_spec) does, or "
                f"torch.nn.functional.one_hot(index, {n or 'n'}); or build the env with "
                "GymEnv(..., categorical_action_encoding=True) to act with indices",
            code="action-encoding", keys=(name,),
        )
    if kind == "index" and tuple(action.shape) != shape:
        return Finding(
            what=f"the policy writes '{name}' as {got}, but the action spec takes an index "
                 f"({want})",
            why="a one-hot vector (or scores per action) where one integer per step is "
                "expected is read as several actions, or refused",
            fix="write the index: action = scores.argmax(-1), or "
                "QValueModule(spec=env.action_spec) with this spec",
            code="action-encoding", keys=(name,),
        )
    if tuple(action.shape) != shape:
        return Finding(
            what=f"the policy writes '{name}' as {got}, but the action spec is {want}",
            why="environments do not check the width: gym's Pendulum, for one, takes the "
                "first value of a wider action and ignores the rest, silently",
            fix=f"size the last layer from the spec: out_features=env.action_spec.shape[-1] "
                f"(here {shape[-1] if shape else 1}), or MLP(out_features=...) likewise",
            code="action-shape", keys=(name,),
        )
    ours, theirs = _dtype_kind(action.dtype), _dtype_kind(spec.dtype)
    if ours != theirs and not (kind != "continuous" and {ours, theirs} <= {"int", "bool"}):
        return Finding(
            what=f"the policy writes '{name}' as {got}, the action spec holds "
                 f"{str(spec.dtype).removeprefix('torch.')}",
            why=f"{'continuous' if kind == 'continuous' else 'discrete'} actions are "
                f"{theirs}s; the rollout stores the {ours}s as they are, and a loss or a "
                "replay buffer built from the spec then disagrees with the data",
            fix=f"cast in the policy: action.to({spec.dtype}), or write the action the "
                "spec describes",
            code="action-dtype", keys=(name,),
        )
    return None
