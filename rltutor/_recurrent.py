"""Recurrent modules inside a policy, and the state keys each one carries, whatever their names.

TorchRL's ``LSTMModule`` reads ``[input, h, c, is_init]`` and ``GRUModule`` reads
``[input, h, is_init]``; each writes its state back under ``"next"`` so that the next step
reads it, and its primer (``module.make_tensordict_primer()``) puts the state in the
environment's output. Which keys are the state is told by position, not by name, so custom
names (``rs_h``/``rs_c``) are recognised; ``check_policy`` and ``rollout`` both ask here.
Classes are recognised by name, so this module imports no torchrl.

    >>> from torchrl.modules import LSTMModule
    >>> lstm = LSTMModule(input_size=3, hidden_size=4, in_keys=["observation", "rs_h", "rs_c"],
    ...                   out_keys=["embed", ("next", "rs_h"), ("next", "rs_c")])
    >>> [key_str(k) for k in recurrent_state(lstm).state]
    ['rs_h', 'rs_c']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from rltutor._keys import Path, key_str, leaf_name, module_keys

__all__ = ["RecurrentState", "caller_carries_state", "missing_state_message",
           "recurrent_modules", "recurrent_state"]

_RECURRENT = {"LSTMModule": 2, "GRUModule": 1}  # class -> number of state tensors


def _recurrent_class(module: Any) -> str | None:
    for cls in type(module).__mro__:
        if cls.__name__ in _RECURRENT:
            return cls.__name__
    return None


def recurrent_modules(policy: Any) -> list[nn.Module]:
    """The ``LSTMModule``/``GRUModule`` instances inside ``policy`` (or the policy itself).

    Args:
        policy: any object; only an ``nn.Module`` can hold recurrent modules.

    >>> recurrent_modules(nn.Linear(2, 1))
    []
    """
    if not isinstance(policy, nn.Module):
        return []
    return [m for m in policy.modules() if _recurrent_class(m) is not None]


@dataclass(frozen=True)
class RecurrentState:
    """The keys a recurrent module carries from step to step.

    ``state``: the keys it reads its state from (``h``, and ``c`` for an LSTM);
    ``at_root``: those it writes back at the root instead of under ``"next"``, where the
    next step would read them; ``init``: the key it resets on (``is_init``), or None.
    """

    state: tuple[Path, ...]
    at_root: tuple[Path, ...]
    init: Path | None


def recurrent_state(module: Any) -> RecurrentState:
    """The state keys of one recurrent module, told by position in its ``in_keys``.

    Args:
        module: an ``LSTMModule`` or ``GRUModule`` (anything else carries no state).

    >>> recurrent_state(nn.Linear(2, 1)).state
    ()
    """
    count = _RECURRENT.get(_recurrent_class(module) or "", 0)
    reads = module_keys(module, "in_keys")
    init = reads[-1] if reads and leaf_name(reads[-1]) == "is_init" else None
    state = tuple(reads[1:1 + count])
    writes = set(module_keys(module, "out_keys"))
    at_root = tuple(k for k in state if k in writes and ("next", *k) not in writes)
    return RecurrentState(state, at_root, init)


def caller_carries_state(policy: Any, info: RecurrentState) -> bool:
    """True when ``policy`` is built to be called by hand, its state passed in and out by
    the caller (TorchRL's export recipe), not carried by an environment.

    The signs: the state is written back at the root (where the caller reads it, not
    under ``"next"``), and either the policy returns it (``select_out_keys`` naming the
    state keys) or a ``BatchSizeTransform`` reshapes its input for a single unbatched call.

    Args:
        policy: the policy holding the recurrent module.
        info: that module's :func:`recurrent_state`.

    >>> caller_carries_state(nn.Linear(2, 1), RecurrentState((), (), None))
    False
    """
    if not info.at_root:
        return False
    selected = bool(getattr(policy, "_select_before_return", False))
    returned = selected and set(info.at_root) <= set(module_keys(policy, "out_keys"))
    reshaped = isinstance(policy, nn.Module) and any(
        any(c.__name__ == "BatchSizeTransform" for c in type(m).__mro__)
        for m in policy.modules())
    return returned or reshaped


def missing_state_message(policy: Any, have: set[Path]) -> str | None:
    """Why a rollout cannot start, when ``policy`` reads recurrent state the env lacks.

    Names the module and its primer, the one fix, instead of a bare list of missing keys.

    Args:
        policy: the policy about to run.
        have: the keys of the TensorDict it would read (e.g. ``env.reset()``'s).

    >>> missing_state_message(nn.Linear(2, 1), set()) is None
    True
    """
    for module in recurrent_modules(policy):
        info = recurrent_state(module)
        missing = [k for k in info.state if k not in have]
        if not missing:
            continue
        name = type(module).__name__
        keys = ", ".join(repr(key_str(k)) for k in missing)
        if info.at_root:
            return (f"{name} reads its recurrent state {keys} and writes it back at the root, "
                    f"not under 'next': write it to "
                    f"{', '.join(repr(('next', *k)) for k in info.at_root)} in its out_keys, "
                    "then add its primer: env.append_transform(module.make_tensordict_primer())")
        return (f"{name} reads its recurrent state {keys}, which the environment does not "
                f"provide: add the module's primer, "
                f"env.append_transform({name.removesuffix('Module').lower()}"
                ".make_tensordict_primer())")
    return None
