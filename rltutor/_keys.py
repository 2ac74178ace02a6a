"""One vocabulary for TensorDict keys, shared by the views, rollouts and diagnostics.

Every key is normalised with tensordict's own :func:`~tensordict.unravel_key`, so
``"obs"``, ``("obs",)`` and ``(("obs",),)`` are one key, and ``("next", ("agent", "obs"))``
is ``("next", "agent", "obs")``. On top of that, one rule decides which keys a policy needs
from outside (:func:`env_keys`): walk its steps in the order a ``TensorDictSequential``
runs them; a key is *provided by an earlier step* when that step wrote the key, a
sub-TensorDict holding it, or a leaf inside it (:func:`provided`). ``rltutor.dataflow``,
``rltutor.rollout`` and ``rltutor.check_policy`` all ask this module, so they agree.

    >>> from tensordict.nn import TensorDictModule, TensorDictSequential
    >>> from torch import nn
    >>> net = TensorDictModule(nn.Linear(3, 4), in_keys=["observation"],
    ...                        out_keys=[("params", "loc")])
    >>> head = TensorDictModule(nn.Identity(), in_keys=["params"], out_keys=["action"])
    >>> [key_str(k) for k in env_keys(TensorDictSequential(net, head))]
    ['observation']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tensordict import unravel_key
from tensordict.nn import TensorDictModuleBase, TensorDictSequential
from torch import nn

__all__ = [
    "Path",
    "as_path",
    "env_keys",
    "is_prefix",
    "key_str",
    "leaf_name",
    "module_keys",
    "module_parts",
    "module_steps",
    "overlaps",
    "provided",
]

Path = tuple[str, ...]  # a key as the names from the root down: ("next", "reward")


def as_path(key: Any) -> Path:
    """Any nested key as a flat tuple of names.

    Args:
        key: a string or a (possibly nested) tuple of strings, as tensordict accepts.

    >>> as_path("obs"), as_path(("next", ("agent", "obs")))
    (('obs',), ('next', 'agent', 'obs'))
    """
    flat = unravel_key(key)
    return (flat,) if isinstance(flat, str) else tuple(flat)


def key_str(key: Any) -> str:
    """A key as dotted text: ``("next", "reward")`` -> ``"next.reward"``.

    Args:
        key: any key :func:`as_path` accepts.

    >>> key_str(("next", "reward")), key_str("action")
    ('next.reward', 'action')
    """
    return ".".join(as_path(key))


def leaf_name(key: Any) -> str:
    """The last name of a key: ``("next", "is_init")`` -> ``"is_init"``.

    Args:
        key: any key :func:`as_path` accepts.

    >>> leaf_name(("next", "is_init"))
    'is_init'
    """
    return as_path(key)[-1]


def is_prefix(prefix: Any, key: Any) -> bool:
    """True when ``key`` is ``prefix`` or sits inside it.

    Args:
        prefix: the outer key, e.g. ``"next"``.
        key: the key tested, e.g. ``("next", "reward")``.

    >>> is_prefix("next", ("next", "reward")), is_prefix(("next", "reward"), "next")
    (True, False)
    """
    outer, inner = as_path(prefix), as_path(key)
    return inner[: len(outer)] == outer


def overlaps(a: Any, b: Any) -> bool:
    """True when one key is the other or lies inside it.

    Args:
        a: a key.
        b: another key.

    >>> overlaps("params", ("params", "loc")), overlaps("loc", "scale")
    (True, False)
    """
    return is_prefix(a, b) or is_prefix(b, a)


def provided(key: Any, written: Iterable[Any]) -> bool:
    """Did an earlier step write ``key``, the sub-TensorDict it sits in, or a leaf in it?

    A step reading ``"params"`` after another wrote ``("params", "force", "loc")`` reads
    what was built leaf by leaf; a step reading ``("params", "loc")`` after another wrote
    all of ``"params"`` reads part of it. Neither comes from the environment.

    Args:
        key: the key a step reads.
        written: the keys the steps before it wrote.

    >>> provided(("params", "loc"), ["params"]), provided("params", [("params", "loc")])
    (True, True)
    >>> provided("observation", ["action"])
    False
    """
    return any(overlaps(key, w) for w in written)


def module_steps(
    module: Any, group: tuple[str, ...] = ()
) -> Iterator[tuple[TensorDictModuleBase, tuple[str, ...]]]:
    """The modules ``module`` runs, in order, each with the containers it sits in.

    A ``TensorDictSequential`` (``ProbabilisticActor``, ``QValueActor``, ...) and a
    ``Compose`` of transforms are opened recursively (:func:`module_parts`); anything
    else is one step.

    Args:
        module: a TensorDict module.
        group: the names of the containers already opened (used by the recursion).

    >>> from tensordict.nn import TensorDictModule, TensorDictSequential
    >>> from torch import nn
    >>> a = TensorDictModule(nn.Identity(), in_keys=["x"], out_keys=["y"])
    >>> [names for _, names in module_steps(TensorDictSequential(a, a))]
    [('TensorDictSequential',), ('TensorDictSequential',)]
    """
    parts = module_parts(module)
    if not parts:
        yield module, group
        return
    for part in parts:
        yield from module_steps(part, (*group, type(module).__name__))


def module_parts(module: Any) -> list[Any]:
    """The parts a ``TensorDictSequential`` (or a transforms ``Compose``) runs in order.

    A transform inside a policy (``ObservationNorm``, ``BatchSizeTransform``,
    ``env.transform[:-1]``) is a part like any module: it reads and rewrites the
    TensorDict. [] for a module that is one step.

    Args:
        module: anything.

    >>> from tensordict.nn import TensorDictModule
    >>> from torch import nn
    >>> a = TensorDictModule(nn.Identity(), in_keys=["x"], out_keys=["y"])
    >>> len(module_parts(TensorDictSequential(a, a))), module_parts(a)
    (2, [])
    """
    if _is_compose(module):
        inner = list(module.transforms)
    elif isinstance(module, TensorDictSequential):
        inner = module.module
        inner = list(inner.values() if isinstance(inner, nn.ModuleDict) else inner)
    else:
        return []
    return [m for m in inner if isinstance(m, TensorDictModuleBase)
            or TensorDictModuleBase.is_tdmodule_compatible(m)]


def _is_compose(module: Any) -> bool:
    # by name, so that this module imports no torchrl
    return any(cls.__name__ == "Compose" for cls in type(module).__mro__) and hasattr(
        module, "transforms"
    )


def module_keys(module: Any, attr: str) -> list[Path]:
    """``module.in_keys`` or ``module.out_keys`` as paths ([] when it has none).

    Args:
        module: any object; modules without the attribute have no keys.
        attr: ``"in_keys"`` or ``"out_keys"``.

    >>> from tensordict.nn import TensorDictModule
    >>> from torch import nn
    >>> module_keys(TensorDictModule(nn.Identity(), in_keys=["x"], out_keys=[("y", "z")]),
    ...             "out_keys")
    [('y', 'z')]
    """
    keys = getattr(module, attr, None) or ()
    if not keys and attr == "out_keys" and hasattr(module, "action_key"):
        # RandomPolicy declares no keys: it writes its action key (each leaf of a
        # Composite spec)
        spec = getattr(module, "action_spec", None)
        keys = (list(spec.keys(True, True)) if hasattr(spec, "keys")
                else [module.action_key])
    return [as_path(k) for k in keys]


def env_keys(module: Any) -> list[Path]:
    """The keys ``module`` reads that no earlier step of it writes: the environment's part.

    Args:
        module: a TensorDict module (a plain module is one step).

    >>> from tensordict.nn import TensorDictModule
    >>> from torch import nn
    >>> env_keys(TensorDictModule(nn.Identity(), in_keys=["observation"], out_keys=["action"]))
    [('observation',)]
    """
    written: list[Path] = []
    needed: list[Path] = []
    for step, _ in module_steps(module):
        for key in module_keys(step, "in_keys"):
            if not provided(key, written) and key not in needed:
                needed.append(key)
        written += module_keys(step, "out_keys")
    return needed
