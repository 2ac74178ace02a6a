"""TorchRL specs as nodes: a ``Composite`` becomes a tree like a TensorDict.

Each leaf spec shows its class, shape, dtype, device and its space: ``[low, high]`` for
bounds, ``n=`` for discrete values. torchrl is never imported here: a spec can only
exist once torchrl is loaded, so ``is_spec`` looks it up in ``sys.modules``.
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from rltutor.display._format import num, shorten
from rltutor.display._nodes import Branch, Leaf, Node
from rltutor.display._options import Options


def is_spec(obj: Any) -> bool:
    """True for any TorchRL ``TensorSpec`` (Composite, Bounded, OneHot, ...).

    Args:
        obj: anything.

    >>> is_spec(3)
    False"""
    data = sys.modules.get("torchrl.data")
    spec_type = getattr(data, "TensorSpec", None)
    return spec_type is not None and isinstance(obj, spec_type)


def _is_composite(spec: Any) -> bool:
    # only called on specs, so torchrl.data is loaded
    return isinstance(spec, sys.modules["torchrl.data"].Composite)


def build_spec(spec: Any, opts: Options) -> Node:
    """The spec handler: the tree of a Composite spec, or one row for a leaf spec.

    Args:
        spec: a TorchRL spec.
        opts: the view's options.

    >>> from torchrl.data import Bounded
    >>> build_spec(Bounded(-2.0, 2.0, shape=(1,)), Options()).text
    '[-2, 2]'
    """
    if _is_composite(spec):
        return _branch(spec, None, opts, depth=0)
    return _leaf(spec, "", 0, opts)


def _device(spec: Any) -> str | None:
    device = getattr(spec, "device", None)
    return None if device is None else str(device)


def _branch(spec: Any, key: str | None, opts: Options, depth: int) -> Branch:
    node = Branch(key=key, type_name=type(spec).__name__, batch_size=tuple(spec.shape),
                  device=_device(spec))
    parts = getattr(spec, "_specs", None)
    if isinstance(parts, (list, tuple)):  # a StackedComposite: only the common keys show
        node.note = f"lazy stack of {len(parts)}"
    if depth > opts.max_depth:
        node.more = len(list(spec.keys()))
        node.note = f"deeper than max_depth={opts.max_depth}"
        return node
    items = [(str(k), v) for k, v in spec.items()]
    if opts.sort:
        items.sort(key=lambda kv: (kv[1] is not None and _is_composite(kv[1]), kv[0]))
    node.more = max(len(items) - opts.max_keys, 0)
    for name, child in items[: opts.max_keys]:
        if child is not None and _is_composite(child):
            node.children.append(_branch(child, name, opts, depth + 1))
        else:
            node.children.append(_leaf(child, name, len(spec.shape), opts))
    return node


def _leaf(spec: Any, key: str, batch_dims: int, opts: Options) -> Leaf:
    if spec is None:  # Composite allows an entry with no spec yet
        return Leaf(key=key, shape=(), batch_dims=0, dtype="-", device="-", kind="None",
                    text="no spec")
    dtype = getattr(spec, "dtype", None)
    return Leaf(
        key=key,
        shape=tuple(spec.shape),
        batch_dims=batch_dims,
        dtype="-" if dtype is None else str(dtype).removeprefix("torch."),
        device=_device(spec) or "-",
        kind=type(spec).__name__,
        text=shorten(space_str(spec), opts.text_limit),
    )


def space_str(spec: Any) -> str:
    """The values a leaf spec allows, in a few characters.

    ``[-2, 2]`` for uniform bounds, ``low [-1 -1 -8], high [1 1 8]`` otherwise, ``n=4``
    for discrete values, ``nvec=[3, 2]`` for several discrete parts.
    """
    name = type(spec).__name__
    if name == "NonTensor":
        return "any value (non-tensor)"
    if name == "Binary":
        return "0 or 1 per element"
    nvec = getattr(spec, "nvec", None)
    if nvec is not None and name.startswith("Multi"):
        values = nvec.tolist() if isinstance(nvec, torch.Tensor) else list(nvec)
        return f"nvec={values}"
    try:
        space = spec.space
    except Exception:  # e.g. a lazy stack of specs: no single space to show
        return f"lazy stack of {len(getattr(spec, '_specs', ()))} specs"
    n = getattr(space, "n", None)
    if n is not None:
        return f"n={n}"
    low, high = getattr(space, "low", None), getattr(space, "high", None)
    if name.startswith("Unbounded") or low is None or high is None:
        return "unbounded"
    return _bounds(low, high)


def _bounds(low: torch.Tensor, high: torch.Tensor) -> str:
    if low.numel() == 0:
        return "empty"
    lo_min, lo_max, hi_min, hi_max = (
        torch.stack([low.min(), low.max(), high.min(), high.max()]).double().tolist()
    )
    if lo_min == lo_max and hi_min == hi_max:
        return f"[{num(lo_min)}, {num(hi_min)}]"
    if low.numel() <= 6:
        def vec(t: torch.Tensor) -> str:
            return " ".join(num(v) for v in t.reshape(-1).double().tolist())

        return f"low [{vec(low)}], high [{vec(high)}]"

    def span(a: float, b: float) -> str:
        return num(a) if a == b else f"{num(a)}..{num(b)}"

    return f"low {span(lo_min, lo_max)}, high {span(hi_min, hi_max)}"
