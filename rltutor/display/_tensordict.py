"""The TensorDict and tensor handlers: a TensorDict becomes a tree of plain nodes.

Leaves carry cheap previews (``rltutor.display._preview``); with ``module=policy`` the
keys the policy wrote and the ones it reads get badges, decided by the same dataflow
``rltutor.dataflow`` shows: the handler chain (``_build.flow_for``) hands it in.
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import LazyStackedTensorDict, TensorDictBase, is_non_tensor

from rltutor._keys import key_str
from rltutor.display._format import shorten
from rltutor.display._nodes import BATCH, INPUT, POLICY, VALUE, Branch, Flow, Leaf
from rltutor.display._options import Options
from rltutor.display._preview import preview_tensor

__all__ = ["Ragged", "build_tensor", "build_tensordict", "flow_marks", "is_tensor",
           "is_tensordict", "leaf_of", "tensor_leaf", "tensordict_items"]


WRITERS = (POLICY, VALUE)


def is_tensordict(obj: Any) -> bool:
    """True for any TensorDict (``TensorDict``, lazy stacks, ``TensorDictParams``, ...).

    Args:
        obj: anything.

    >>> from tensordict import TensorDict
    >>> is_tensordict(TensorDict()), is_tensordict({})
    (True, False)
    """
    return isinstance(obj, TensorDictBase)


def is_tensor(obj: Any) -> bool:
    """True for a torch tensor.

    Args:
        obj: anything.

    >>> is_tensor(torch.zeros(1))
    True
    """
    return isinstance(obj, torch.Tensor)


def build_tensordict(td: TensorDictBase, opts: Options, flow: Flow | None = None) -> Branch:
    """The tree of a TensorDict, with badges from ``flow`` (the dataflow of ``opts.module``).

    Args:
        td: the TensorDict.
        opts: the view's options.
        flow: the dataflow of the module whose keys get badges, or None for no badges.

    >>> from tensordict import TensorDict
    >>> build_tensordict(TensorDict({"x": torch.zeros(2)}, [2]), Options()).key is None
    True
    """
    marks = flow_marks(flow) if flow is not None else {}
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


def flow_marks(flow: Flow) -> dict[str, tuple[str, ...]]:
    """The badges a dataflow puts on keys: what the module reads, and what it writes.

    Reads are marked as coming from the environment, or from collected data when the
    module runs on a batch (a loss, a Q-network reading the policy's action).

    Args:
        flow: a module's dataflow.

    >>> flow_marks(Flow("f", [], env_keys=("observation",), out_keys=("action",)))
    {'observation': ('input',), 'action': ('policy',)}
    """
    read = INPUT if flow.inputs_from == "the environment" else BATCH
    marks: dict[str, tuple[str, ...]] = {key: (read,) for key in flow.env_keys}
    for key in flow.out_keys if flow.writer else ():
        # a key read and rewritten in place (ObservationNorm inside the policy, an LSTM
        # with out_key == in_key) holds what the module wrote
        marks[key] = (read, flow.writer) if key in marks else (flow.writer,)
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
    items = tensordict_items(td)
    if opts.sort:
        items.sort(key=lambda kv: (isinstance(kv[1], TensorDictBase) and not is_non_tensor(kv[1]),
                                   str(kv[0])))
    node.more = max(len(items) - opts.max_keys, 0)
    for name, value in items[: opts.max_keys]:
        child_path = (*path, name)
        if isinstance(value, TensorDictBase) and not is_non_tensor(value):
            node.children.append(
                _branch(value, name, child_path, opts, marks, depth + 1, time_dim)
            )
        else:
            node.children.append(
                leaf_of(value, name, td.batch_dims, opts, marks.get(key_str(child_path), ()),
                      time_dim)
            )
    writer = _written_by(node) if path and marks and not node.badges else None
    if writer:
        node.badges = (writer,)  # e.g. ("params", ...) or ("action", ...) built leaf by leaf
    return node


class Ragged(list):
    """The members' tensors of a lazy stack entry whose shapes differ (no stacked view);
    ``shape`` is the stack's, -1 where the members differ."""

    shape: tuple[int, ...] = ()


def tensordict_items(td: TensorDictBase) -> list[tuple[str, Any]]:
    """``td.items()``, except that an entry of a lazy stack whose members' shapes differ
    (``get_item_shape`` says -1) stays a list of the members' tensors: stacking it fails."""
    if not isinstance(td, LazyStackedTensorDict):
        return list(td.items())
    items: list[tuple[str, Any]] = []
    for key in td.keys():
        first = td.tensordicts[0].get(key) if td.tensordicts else None
        if isinstance(first, torch.Tensor) and -1 in td.get_item_shape(key):
            ragged = Ragged(part.get(key) for part in td.tensordicts)
            ragged.shape = tuple(td.get_item_shape(key))
            items.append((key, ragged))
        else:
            items.append((key, td.get(key)))
    return items


def _ragged_leaf(
    members: Ragged, key: str, batch_dims: int, opts: Options, badges: tuple[str, ...]
) -> Leaf:
    """A stack of tensors of different shapes: the stack's shape (-1 where they differ)
    and the shape of each member, e.g. ``[3], [5]``."""
    shapes = [list(t.shape) for t in members]
    distinct = list(dict.fromkeys(map(str, shapes)))
    text = "members: " + ", ".join(str(shape) for shape in shapes[:4])
    if len(shapes) > 4:
        text += f" … ({len(distinct)} distinct shapes in {len(shapes)})"
    dtypes = sorted({str(t.dtype).removeprefix("torch.") for t in members})
    return Leaf(
        key=key,
        shape=members.shape,
        batch_dims=batch_dims,
        dtype="/".join(dtypes),
        device=str(members[0].device) if members else "-",
        badges=badges,
        text=shorten(text, opts.text_limit),
    )


def _written_by(node: Branch) -> str | None:
    """The writer badge every leaf shown below ``node`` carries (none hidden), else None."""
    if node.more or not node.children:
        return None
    found = {_written_by(child) if isinstance(child, Branch)
             else next((b for b in child.badges if b in WRITERS), None)
             for child in node.children}
    return found.pop() if len(found) == 1 else None


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


def leaf_of(
    value: Any,
    key: str,
    batch_dims: int,
    opts: Options,
    badges: tuple[str, ...],
    time_dim: int | None,
) -> Leaf:
    if isinstance(value, torch.Tensor):
        return tensor_leaf(value, key, batch_dims, opts, badges, time_dim)
    if isinstance(value, Ragged):
        return _ragged_leaf(value, key, batch_dims, opts, badges)
    if is_non_tensor(value):
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


def build_tensor(tensor: torch.Tensor, opts: Options) -> Leaf:
    """A bare tensor: no batch dims; a sparkline over dim 0 when it is long enough."""
    time_dim = opts.time_dim
    if time_dim is None and tensor.dim() >= 1 and tensor.shape[0] >= 8:
        time_dim = 0
    return tensor_leaf(tensor, "tensor", 0, opts, (), time_dim)
