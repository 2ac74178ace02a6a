"""Traversal: turn an object into a tree of plain nodes (see ``rltutor._nodes``).

Handlers are tried in order; the first whose test accepts the object builds its node,
and ``repr`` is the last resort, so anything can be shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from tensordict import LazyStackedTensorDict, TensorDictBase
from tensordict.nn import TensorDictModuleBase

from rltutor._nodes import INPUT, POLICY, Branch, Leaf, Node, Opaque
from rltutor._preview import preview_tensor


@dataclass(frozen=True)
class Options:
    """Everything a view can be tuned with; ``show(obj, **options)`` fills it."""

    module: Any = None  # a TensorDict module: mark the keys it wrote and the ones it reads
    max_keys: int = 40  # children shown per TensorDict level before "... N more"
    max_depth: int = 6  # nested TensorDicts shown below the root
    previews: bool = True  # compute min/mean/max, counts and sparklines
    spark_bins: int = 24  # points in a sparkline, whatever the rollout length
    time_dim: int | None = None  # batch dim to draw sparklines over; default: the one named "time"
    stats_limit: int = 2_000_000  # tensors with more values get no preview
    text_limit: int = 60  # characters of a non-tensor value or key before "…"
    repr_limit: int = 2000  # characters of a fallback repr
    open_depth: int = 1  # HTML: nested TensorDicts this deep start expanded
    sort: bool = True  # leaves A->Z then nested TensorDicts A->Z; False keeps insertion order
    show_same: bool = False  # diff: also list unchanged keys


OPTION_NAMES = tuple(f.name for f in dataclasses.fields(Options))


def make_options(**options: Any) -> Options:
    """Check option names and values, with an error that lists what is accepted."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise TypeError(
            f"unknown display option(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(OPTION_NAMES)}"
        )
    for name in ("max_keys", "max_depth", "spark_bins", "stats_limit", "text_limit", "repr_limit"):
        value = options.get(name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ValueError(f"display option {name} must be an integer >= 0, got {value!r}")
    module = options.get("module")
    if module is not None and not isinstance(module, TensorDictModuleBase):
        raise TypeError(
            "display option module= takes a TensorDict module (TensorDictModule, "
            f"TensorDictSequential, ProbabilisticActor, ...), got {type(module).__name__}"
        )
    return Options(**options)


def key_str(key: str | tuple[str, ...]) -> str:
    """``("next", "reward")`` -> ``"next.reward"`` (tensordict's flatten_keys separator)."""
    return ".".join(key) if isinstance(key, tuple) else str(key)


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending with "…" when something was cut."""
    text = " ".join(str(text).split())  # one line, whatever the value printed
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def build(obj: Any, opts: Options) -> Node:
    """The node for ``obj``: the first handler that accepts it builds it."""
    for accepts, handler in HANDLERS:
        if accepts(obj):
            return handler(obj, opts)
    raise AssertionError("unreachable: the repr handler accepts everything")


# ---------------------------------------------------------------- TensorDicts


def build_tensordict(td: TensorDictBase, opts: Options) -> Branch:
    """The tree of a TensorDict, with module badges when ``opts.module`` is set."""
    marks = _module_marks(opts.module) if opts.module is not None else {}
    return _branch(td, None, (), opts, marks, depth=0, time_dim=_time_dim(td, opts))


def _time_dim(td: TensorDictBase, opts: Options) -> int | None:
    if opts.time_dim is not None:
        if not 0 <= opts.time_dim < td.batch_dims:
            raise ValueError(
                f"time_dim={opts.time_dim} is not a batch dim of this TensorDict "
                f"(batch_size {list(td.batch_size)}): pass 0..{td.batch_dims - 1} or None"
            )
        return opts.time_dim
    names = _names(td)
    return names.index("time") if "time" in names else None


def _names(td: TensorDictBase) -> tuple[str | None, ...]:
    try:
        return tuple(td.names)
    except Exception:  # some TensorDict flavours cannot report names
        return (None,) * td.batch_dims


def _module_marks(module: TensorDictModuleBase) -> dict[str, tuple[str, ...]]:
    from rltutor._modules import flow_of  # local: module cards import this file

    flow = flow_of(module)
    marks: dict[str, tuple[str, ...]] = {key: (INPUT,) for key in flow.env_keys}
    for key in flow.out_keys:
        marks[key] = (POLICY,)
    return marks


def _branch(
    td: TensorDictBase,
    key: str | None,
    path: tuple[str, ...],
    opts: Options,
    marks: dict[str, tuple[str, ...]],
    depth: int,
    time_dim: int | None,
) -> Branch:
    node = Branch(
        key=key,
        type_name=type(td).__name__,
        batch_size=tuple(td.batch_size),
        device=None if td.device is None else str(td.device),
        names=_names(td),
        badges=marks.get(key_str(path), ()) if path else (),
    )
    if isinstance(td, LazyStackedTensorDict):
        node.note = _lazy_note(td)
    if depth > opts.max_depth:
        node.more = len(list(td.keys()))
        cut = f"deeper than max_depth={opts.max_depth}"
        node.note = f"{node.note}; {cut}" if node.note else cut
        return node
    items = list(td.items())
    if opts.sort:
        items.sort(key=lambda kv: (isinstance(kv[1], TensorDictBase) and not _is_non_tensor(kv[1]),
                                   str(kv[0])))
    node.more = max(len(items) - opts.max_keys, 0)
    for name, value in items[: opts.max_keys]:
        child_path = (*path, name)
        if isinstance(value, TensorDictBase) and not _is_non_tensor(value):
            node.children.append(
                _branch(value, name, child_path, opts, marks, depth + 1, time_dim)
            )
        else:
            node.children.append(
                _leaf(value, name, td.batch_dims, opts, marks.get(key_str(child_path), ()),
                      time_dim)
            )
    if path and marks and not node.badges and _all_written(node):
        node.badges = (POLICY,)  # e.g. ("params", ...) or ("action", ...) built leaf by leaf
    return node


def _all_written(node: Branch) -> bool:
    """True when the module wrote every leaf shown below ``node`` (and none is hidden)."""
    if node.more or not node.children:
        return False
    return all(
        _all_written(child) if isinstance(child, Branch) else POLICY in child.badges
        for child in node.children
    )


def _lazy_note(td: LazyStackedTensorDict) -> str:
    parts = td.tensordicts
    common = set(td.keys())
    only_some = sorted({str(k) for part in parts for k in part.keys()} - {str(k) for k in common})
    note = f"lazy stack of {len(parts)} along dim {td.stack_dim}"
    if only_some:
        note += f"; only in some: {', '.join(only_some[:5])}"
        if len(only_some) > 5:
            note += f" … {len(only_some) - 5} more"
    return note


def _is_non_tensor(value: Any) -> bool:
    from tensordict import is_non_tensor

    return is_non_tensor(value)


def _leaf(
    value: Any,
    key: str,
    batch_dims: int,
    opts: Options,
    badges: tuple[str, ...],
    time_dim: int | None,
) -> Leaf:
    if isinstance(value, torch.Tensor):
        return tensor_leaf(value, key, batch_dims, opts, badges, time_dim)
    if _is_non_tensor(value):
        data = value.tolist() if hasattr(value, "tolist") else getattr(value, "data", value)
        return Leaf(
            key=key,
            shape=tuple(value.batch_size),
            batch_dims=batch_dims,
            dtype="non-tensor",
            device="-" if value.device is None else str(value.device),
            badges=badges,
            text=shorten(repr(data), opts.text_limit),
        )
    return Leaf(  # e.g. a tensorclass: show what it is, not its insides
        key=key,
        shape=tuple(getattr(value, "batch_size", ()) or ()),
        batch_dims=batch_dims,
        dtype=type(value).__name__,
        device=str(getattr(value, "device", "-")),
        badges=badges,
        text=shorten(repr(value), opts.text_limit),
    )


def tensor_leaf(
    tensor: torch.Tensor,
    key: str,
    batch_dims: int,
    opts: Options,
    badges: tuple[str, ...] = (),
    time_dim: int | None = None,
) -> Leaf:
    """A Leaf for one tensor (its first ``batch_dims`` dims are the TensorDict's batch)."""
    preview = (
        preview_tensor(tensor, time_dim, opts.spark_bins, opts.stats_limit)
        if opts.previews
        else None
    )
    return Leaf(
        key=key,
        shape=tuple(tensor.shape),
        batch_dims=batch_dims,
        dtype=str(tensor.dtype).removeprefix("torch."),
        device=str(tensor.device),
        preview=preview,
        badges=badges,
    )


# ---------------------------------------------------------------- other objects


def build_tensor(tensor: torch.Tensor, opts: Options) -> Leaf:
    """A bare tensor: no batch dims; a sparkline over dim 0 when it is long enough."""
    time_dim = opts.time_dim
    if time_dim is None and tensor.dim() >= 1 and tensor.shape[0] >= 8:
        time_dim = 0
    return tensor_leaf(tensor, "tensor", 0, opts, (), time_dim)


def build_module(module: TensorDictModuleBase, opts: Options) -> Node:
    from rltutor._modules import module_card

    return module_card(module)


def build_repr(obj: Any, opts: Options) -> Opaque:
    """The fallback: the object's own repr, cut at ``opts.repr_limit`` characters."""
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not break the view
        text = f"<{type(obj).__name__}: repr failed with {type(exc).__name__}: {exc}>"
    more = max(len(text) - opts.repr_limit, 0)
    return Opaque(type_name=type(obj).__name__, text=text[: opts.repr_limit], more_chars=more)


HANDLERS: list[tuple[Callable[[Any], bool], Callable[[Any, Options], Node]]] = [
    (lambda obj: isinstance(obj, TensorDictBase), build_tensordict),
    (lambda obj: isinstance(obj, torch.Tensor), build_tensor),
    (lambda obj: isinstance(obj, TensorDictModuleBase), build_module),
    (lambda obj: _specs().is_spec(obj), lambda obj, opts: _specs().build_spec(obj, opts)),
    (lambda obj: True, build_repr),  # keep last
]


def _specs() -> Any:
    from rltutor import _specs  # local: it imports this file

    return _specs


def iter_leaves(node: Branch, prefix: tuple[str, ...] = ()) -> Iterable[tuple[str, Leaf]]:
    """Every leaf below ``node`` with its dotted key."""
    for child in node.children:
        if isinstance(child, Branch):
            yield from iter_leaves(child, (*prefix, str(child.key)))
        else:
            yield key_str((*prefix, child.key)), child
