"""What changed between two TensorDicts, key by key, as a DiffNode."""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDictBase, is_non_tensor

from rltutor._keys import key_str
from rltutor.display._nodes import Change, DiffNode, Leaf
from rltutor.display._options import Options
from rltutor.display._tensordict import leaf_of


def _check(td: Any, name: str) -> TensorDictBase:
    if not isinstance(td, TensorDictBase):
        raise TypeError(f"diff() compares two TensorDicts; {name} is a {type(td).__name__}")
    return td


def _flat(td: TensorDictBase, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """Leaves by dotted key; non-tensor data counts as a leaf (tensordict's own
    ``leaves_only`` iteration skips it)."""
    flat: dict[str, Any] = {}
    for key, value in td.items():
        path = (*prefix, key)
        if isinstance(value, TensorDictBase) and not is_non_tensor(value):
            flat.update(_flat(value, path))
        else:
            flat[key_str(path)] = value
    return flat


def diff_node(before: Any, after: Any, opts: Options) -> DiffNode:
    """Compare leaves by key: added, removed, changed (shape, dtype, value) or the same."""
    before, after = _check(before, "before"), _check(after, "after")
    note = ""
    if before is after:
        note = (
            "before and after are the same object, so nothing can differ: a module call "
            "like policy(td) writes into td in place; keep a copy first, e.g. "
            "before = td.clone(); after = policy(td)"
        )
    old, new = _flat(before), _flat(after)
    keys = [k for k in old if k not in new] + list(new)
    if opts.sort:
        keys = sorted(keys)
    changes: list[Change] = []
    counts = {"added": 0, "removed": 0, "changed": 0, "same": 0}
    for key in keys:
        change = _compare(key, old.get(key), new.get(key), before.batch_dims, after.batch_dims,
                          opts)
        counts[change.status] += 1
        if change.status != "same" or opts.show_same:
            changes.append(change)
    if tuple(before.batch_size) != tuple(after.batch_size):
        batch_note = (f"batch size changed: {list(before.batch_size)} -> "
                      f"{list(after.batch_size)}")
        note = f"{note}; {batch_note}" if note else batch_note
    more = max(len(changes) - opts.max_keys, 0)
    return DiffNode(changes[: opts.max_keys], counts, note, more)


def _compare(
    key: str, old: Any, new: Any, old_bd: int, new_bd: int, opts: Options
) -> Change:
    # the diff view shows shapes and values of what changed; no sparklines needed
    leaf_opts = Options(previews=opts.previews, stats_limit=opts.stats_limit,
                        text_limit=opts.text_limit, spark_bins=0)
    before = None if old is None else leaf_of(old, key, old_bd, leaf_opts, (), None)
    after = None if new is None else leaf_of(new, key, new_bd, leaf_opts, (), None)
    if before is None:
        return Change(key, "added", None, after)
    if after is None:
        return Change(key, "removed", before, None)
    what: list[str] = []
    detail = ""
    old_is_t, new_is_t = isinstance(old, torch.Tensor), isinstance(new, torch.Tensor)
    if old_is_t != new_is_t:
        what.append("type")
    elif old_is_t:
        if old.shape != new.shape:
            what.append("shape")
        if old.dtype != new.dtype:
            what.append("dtype")
        if not what:
            detail = _value_change(old, new, opts.stats_limit)
            if detail:
                what.append("value")
    elif is_non_tensor(old) and is_non_tensor(new):
        if old.tolist() != new.tolist():
            what.append("value")
    if not what:
        return Change(key, "same", before, after)
    if not detail:
        detail = _shape_dtype_detail(before, after, what)
    return Change(key, "changed", before, after, tuple(what), detail)


def _value_change(old: torch.Tensor, new: torch.Tensor, limit: int) -> str:
    """'' when equal, else how many elements differ and by how much (same shape+dtype)."""
    if old.device != new.device:
        new = new.to(old.device)
    if old.numel() > limit:
        return "" if torch.equal(old, new) else "values differ (too large to count)"
    differ = old != new
    if old.is_floating_point():
        differ &= ~(old.isnan() & new.isnan())  # NaN == NaN for our purpose
    count = int(differ.sum())
    if count == 0:
        return ""
    text = f"{count}/{old.numel()} values differ"
    if old.is_floating_point() or old.dtype in (torch.int32, torch.int64, torch.int16):
        delta = (new.double() - old.double()).abs()[differ].max().item()
        text += f", max |Δ| {delta:.3g}"
    return text


def _shape_dtype_detail(before: Leaf, after: Leaf, what: list[str]) -> str:
    parts = []
    if "shape" in what:
        parts.append(f"shape {list(before.shape)} -> {list(after.shape)}")
    if "dtype" in what:
        parts.append(f"dtype {before.dtype} -> {after.dtype}")
    if "type" in what:
        parts.append(f"{before.dtype} -> {after.dtype}")
    if "value" in what and before.text is not None:
        parts.append(f"{before.text} -> {after.text}")
    return "; ".join(parts)
