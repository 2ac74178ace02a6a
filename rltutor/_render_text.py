"""Text backend: nodes -> aligned, deterministic lines no wider than ``width``."""

from __future__ import annotations

import math

from rltutor._nodes import (
    BADGE_HELP,
    Branch,
    DiffNode,
    Flow,
    Leaf,
    ModuleCard,
    Node,
    Opaque,
    Preview,
)

BLOCKS = "▁▂▃▄▅▆▇█"
STATUS_MARK = {"added": "+", "removed": "-", "changed": "~", "same": "="}


def render(node: Node, width: int = 100) -> str:
    """The text of ``node``, every line cut to ``width`` characters."""
    if isinstance(node, Branch):
        lines = _tree(node, width)
    elif isinstance(node, Leaf):
        lines = [_with_spark(_join(_leaf_cells(node, node.key)), node, width)]
    elif isinstance(node, ModuleCard):
        lines = _card(node)
    elif isinstance(node, Flow):
        lines = _flow(node)
    elif isinstance(node, DiffNode):
        lines = _diff(node)
    elif isinstance(node, Opaque):
        lines = node.text.splitlines() or [""]
        if node.more_chars:
            lines.append(f"... {node.more_chars:,} more characters")
    else:
        raise TypeError(f"no text renderer for {type(node).__name__}")
    return "\n".join(_fit(line, width) for line in lines)


def _fit(line: str, width: int) -> str:
    line = line.rstrip()
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def _join(cells: list[str]) -> str:
    return "  ".join(c for c in cells if c)


# ---------------------------------------------------------------- small formatters


def num(value: float | None) -> str:
    """Three significant digits, the same everywhere (text and HTML)."""
    if value is None:
        return "-"
    if math.isfinite(value) and value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def shape_str(shape: tuple[int, ...], batch_dims: int) -> str:
    """``[200 | 3]``: batch dims, a bar, feature dims (no bar when there is no batch)."""
    batch = " ".join(str(s) for s in shape[:batch_dims])
    feat = " ".join(str(s) for s in shape[batch_dims:])
    if batch_dims == 0:
        return f"[{feat}]"
    return f"[{batch} | {feat}]" if feat else f"[{batch} |]"


def batch_str(batch_size: tuple[int, ...], names: tuple[str | None, ...] = ()) -> str:
    """``batch [1000]``, or ``batch [4, 1000] (-, time)`` when dims have names."""
    text = f"batch [{', '.join(str(s) for s in batch_size)}]"
    if any(names):
        return f"{text} ({', '.join(n or '-' for n in names)})"
    return text


def spark_str(values: tuple[float, ...], is_bool: bool) -> str:
    if not values:
        return ""
    top = len(BLOCKS) - 1
    if is_bool:  # any true in a bin shows at least one step up from the floor
        return "".join(
            BLOCKS[0] if v <= 0 else BLOCKS[max(1, min(top, round(v * top)))] for v in values
        )
    return "".join(BLOCKS[max(0, min(top, round(v * top)))] for v in values)


def preview_cells(p: Preview | None, text: str | None = None) -> list[str]:
    """Three cells that align as columns: min/mean/max, a true-count, or a note."""
    if text is not None:
        return [text, "", ""]
    if p is None:
        return ["", "", ""]
    if p.kind == "bool":
        return [f"{p.true_count}/{p.total} true", "", ""]
    if p.kind in ("float", "int"):
        return [f"min {num(p.low)}", f"mean {num(p.mean)}", f"max {num(p.high)}"]
    if p.kind == "empty":
        return ["empty", "", ""]
    return [p.note, "", ""]


def fit_spark(p: Preview | None, room: int) -> str:
    """The sparkline squeezed (by averaging neighbours) into ``room`` characters."""
    if p is None or not p.spark or room < 6:
        return ""
    values = list(p.spark)
    if len(values) > room:
        n = len(values)
        values = [
            sum(values[i * n // room:(i + 1) * n // room])
            / max(1, (i + 1) * n // room - i * n // room)
            for i in range(room)
        ]
    return spark_str(tuple(values), p.kind == "bool")


def _leaf_cells(leaf: Leaf, label: str) -> list[str]:
    badges = " ".join(f"[{b}]" for b in leaf.badges)
    return [label, shape_str(leaf.shape, leaf.batch_dims), leaf.dtype, leaf.device, badges,
            *preview_cells(leaf.preview, leaf.text)]


def _with_spark(line: str, leaf: Leaf | None, width: int) -> str:
    if leaf is None:
        return line
    # padded lines share one length, so every sparkline starts in the same column
    spark = fit_spark(leaf.preview, width - len(line) - 2)
    return f"{line}  {spark}" if spark else line


def _columns(rows: list[list[str] | str]) -> list[str]:
    """Pad cell rows into aligned columns; plain strings pass through untouched."""
    cell_rows = [r for r in rows if isinstance(r, list)]
    if not cell_rows:
        return [r for r in rows if isinstance(r, str)]
    ncol = max(len(r) for r in cell_rows)
    widths = [max((len(r[i]) for r in cell_rows if i < len(r)), default=0) for i in range(ncol)]
    out = []
    for row in rows:
        if isinstance(row, str):
            out.append(row)
            continue
        cells = [row[i].ljust(widths[i]) if i < len(row) else "" for i in range(ncol)]
        out.append("  ".join(c for c, w in zip(cells, widths, strict=True) if w))
    return out


# ---------------------------------------------------------------- TensorDict tree


def _tree(root: Branch, width: int) -> list[str]:
    head = _branch_head(root, root.type_name)
    rows: list[list[str] | str] = [head]
    leaves: list[Leaf | None] = [None]
    _tree_rows(root, "", rows, leaves)
    lines = [_with_spark(line, leaf, width)
             for line, leaf in zip(_columns(rows), leaves, strict=True)]
    badges = sorted({b for row in _walk(root) for b in row.badges})
    if badges:
        lines.append("  ".join(f"[{b}] {BADGE_HELP.get(b, b)}" for b in badges))
    return lines


def _walk(branch: Branch):
    for child in branch.children:
        yield child
        if isinstance(child, Branch):
            yield from _walk(child)


def _branch_head(b: Branch, label: str) -> str:
    parts = [label, b.type_name if label != b.type_name else "", batch_str(b.batch_size, b.names)]
    if b.device:
        parts.append(f"device {b.device}")
    parts += [f"[{x}]" for x in b.badges]
    if b.note:
        parts.append(f"({b.note})")
    return _join(parts)


def _tree_rows(
    branch: Branch, prefix: str, rows: list[list[str] | str], leaves: list[Leaf | None]
) -> None:
    items: list[Leaf | Branch | str] = list(branch.children)
    if branch.more:
        items.append(f"... {branch.more} more keys")
    for i, child in enumerate(items):
        last = i == len(items) - 1
        elbow = "└─ " if last else "├─ "
        if isinstance(child, str):
            rows.append(prefix + elbow + child)
            leaves.append(None)
        elif isinstance(child, Branch):
            rows.append(prefix + elbow + _branch_head(child, str(child.key)))
            leaves.append(None)
            _tree_rows(child, prefix + ("   " if last else "│  "), rows, leaves)
        else:
            rows.append(_leaf_cells(child, prefix + elbow + child.key))
            leaves.append(child)


# ---------------------------------------------------------------- modules


def _arrow(card_in: tuple[str, ...], card_out: tuple[str, ...]) -> str:
    return f"{', '.join(card_in) or '-'} -> {', '.join(card_out) or '-'}"


def _card(card: ModuleCard) -> list[str]:
    lines = [_join([card.name, _arrow(card.in_keys, card.out_keys)])]
    if card.env_keys:
        lines.append(f"  from the environment: {', '.join(card.env_keys)}")
    _card_rows(card, "", lines)
    return lines


def _details(card: ModuleCard) -> str:
    return ", ".join(f"{k} {v}" for k, v in card.details)


def _card_rows(card: ModuleCard, prefix: str, lines: list[str]) -> None:
    if not card.children:
        if card.details and not prefix:
            lines.append(f"  {_details(card)}")
        return
    for i, child in enumerate(card.children):
        last = i == len(card.children) - 1
        extra = _details(child)
        lines.append(
            prefix + ("└─ " if last else "├─ ")
            + _join([child.name, _arrow(child.in_keys, child.out_keys),
                     f"({extra})" if extra else ""])
        )
        _card_rows(child, prefix + ("   " if last else "│  "), lines)


def _flow(flow: Flow) -> list[str]:
    lines: list[list[str] | str] = [
        f"dataflow of {flow.name}",
        f"  from the environment: {', '.join(flow.env_keys) or 'nothing'}",
        f"  writes: {', '.join(flow.out_keys) or 'nothing'}",
        ["#", "step", "reads", "", "writes", "notes"],
    ]
    group = None
    for step in flow.steps:
        if step.group != group and step.group:
            lines.append(f"   {step.group}")
        group = step.group
        reads = ", ".join(k + (" (env)" if k in step.env_reads else "") for k in step.reads)
        lines.append([str(step.index), step.name, reads or "-", "->",
                      ", ".join(step.writes) or "-", step.note])
    return _columns(lines)


# ---------------------------------------------------------------- diff


def _diff(node: DiffNode) -> list[str]:
    c = node.counts
    lines: list[list[str] | str] = [
        f"diff: {c['added']} added, {c['removed']} removed, {c['changed']} changed, "
        f"{c['same']} unchanged"
    ]
    if node.note:
        lines.append(f"note: {node.note}")
    for ch in node.changes:
        leaf = ch.after or ch.before
        assert leaf is not None
        shape = shape_str(leaf.shape, leaf.batch_dims)
        if ch.status == "changed":
            lines.append([STATUS_MARK[ch.status], ch.key, shape, leaf.dtype,
                          f"{'+'.join(ch.what)}: {ch.detail}"])
        else:
            cells = preview_cells(leaf.preview, leaf.text)
            lines.append([STATUS_MARK[ch.status], ch.key, shape, leaf.dtype,
                          _join(cells)])
    if node.more:
        lines.append(f"... {node.more} more keys")
    return _columns(lines)
