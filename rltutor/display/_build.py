"""The handler chain: the one module that knows every handler, in the order they are tried.

A handler is a pair ``(accepts, build)``: ``accepts(obj)`` says whether it handles
``obj``, ``build(obj, opts)`` returns a node (``rltutor.display._nodes``). The first
handler that accepts an object builds its view; ``repr`` is the last resort, so anything
can be shown.

Adding a view for a new kind of object: write ``rltutor/display/_thing.py`` with
``is_thing(obj)`` and ``build_thing(obj, opts)``, import it here and add one line to
:data:`HANDLERS` *before* any more general handler that would also accept the object (a
TorchRL loss module is a TensorDict module too: its line goes above ``_modules``'s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rltutor.display import _critics, _decision, _loss, _modules, _replay, _specs, _tensordict
from rltutor.display._nodes import Flow, Node, Opaque
from rltutor.display._options import Options

__all__ = ["FLOWS", "HANDLERS", "Handler", "build", "build_repr", "flow_for"]

Handler = tuple[Callable[[Any], bool], Callable[[Any, Options], Node]]


def build_repr(obj: Any, opts: Options) -> Opaque:
    """The fallback: the object's own repr, cut at ``opts.repr_limit`` characters.

    Args:
        obj: anything.
        opts: the view's options (``repr_limit`` is used).

    >>> build_repr("x" * 5, Options(repr_limit=3))
    Opaque(type_name='str', text="'xx", more_chars=4)
    """
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not break the view
        text = f"<{type(obj).__name__}: repr failed with {type(exc).__name__}: {exc}>"
    more = max(len(text) - opts.repr_limit, 0)
    return Opaque(type_name=type(obj).__name__, text=text[: opts.repr_limit], more_chars=more)


def _anything(obj: Any) -> bool:
    return True


# What a module reads and writes: the one lookup that both dataflow() and the badges of
# show(td, module=...) use, most specific kind first, like HANDLERS.
FLOWS: list[tuple[Callable[[Any], bool], Callable[[Any], Flow]]] = [
    (_loss.is_loss, _loss.loss_flow),  # reads a batch of collected data
    (_decision.is_dt_wrapper, _decision.dt_wrapper_flow),  # masks, runs its actor, keeps last
    (_critics.is_value_operator, _critics.value_flow),  # a Q-network reads the policy's action
    (_anything, lambda module: _modules.flow_of(_modules.check_module(module, "dataflow()"))),
]


def flow_for(module: Any) -> Flow:
    """The dataflow of ``module``: the first entry of :data:`FLOWS` that accepts it.

    Args:
        module: a TensorDict module, a loss, a DT wrapper, ...

    >>> import torch
    >>> from torchrl.modules import ValueOperator
    >>> q = ValueOperator(torch.nn.Linear(4, 1), in_keys=["observation", "action"])
    >>> flow_for(q).inputs_from, flow_for(q).writer
    ('collected data (env + policy)', 'value')
    """
    for accepts, flow in FLOWS:
        if accepts(module):
            return flow(module)
    raise AssertionError("unreachable: the last entry accepts everything")


def _build_tensordict(td: Any, opts: Options) -> Node:
    flow = flow_for(opts.module) if opts.module is not None else None
    return _tensordict.build_tensordict(td, opts, flow)


HANDLERS: list[Handler] = [
    (_tensordict.is_tensordict, _build_tensordict),
    (_tensordict.is_tensor, _tensordict.build_tensor),
    (_loss.is_loss, _loss.build_loss),  # losses, critics: TensorDict modules too
    (_decision.is_dt_wrapper, _decision.build_dt_wrapper),  # a module wrapper too
    (_critics.is_actor_critic, _critics.build_actor_critic),
    (_critics.is_value_operator, _critics.build_value_operator),
    (_modules.is_module, _modules.build_module),
    (_replay.is_replay_buffer, _replay.build_replay_buffer),
    (_specs.is_spec, _specs.build_spec),
    (_anything, build_repr),  # keep last
]


def build(obj: Any, opts: Options) -> Node:
    """The node for ``obj``: the first handler that accepts it builds it.

    Args:
        obj: anything.
        opts: the view's options.

    >>> build(3, Options()).text
    '3'
    """
    for accepts, handler in HANDLERS:
        if accepts(obj):
            return handler(obj, opts)
    raise AssertionError("unreachable: the repr handler accepts everything")
