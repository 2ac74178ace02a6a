"""Text backend: nodes -> aligned, deterministic lines no wider than ``width``."""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Sequence

from rltutor.display._format import batch_str, compact_keys, num, shape_str, wrap_keys
from rltutor.display._nodes import (
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
        lines = _card(node, width)
    elif isinstance(node, Flow):
        lines = _flow(node, width)
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


def spark_str(values: tuple[float, ...], is_bool: bool) -> str:
    if not values:
        return ""
    top = len(BLOCKS) - 1
    if is_bool:  # any true in a bin shows at least one step up from the floor
        return "".join(
            BLOCKS[0] if v <= 0 else BLOCKS[max(1, min(top, round(v * top)))] for v in values
        )
    return "".join(BLOCKS[max(0, min(top, round(v * top)))] for v in values)


def _headed(head: str, keys: Sequence[str], width: int, empty: str) -> list[str]:
    """``head`` then the keys, wrapped at ``width`` under the first key."""
    if not keys:
        return [head + empty]
    lines = wrap_keys(keys, width - len(head))
    return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]


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


class _Tail(str):
    """A row's last cell that runs to the end of the line: a note such as "no preview:
    691,200,000 values > limit" must not widen the min column of every other row."""


def _leaf_cells(leaf: Leaf, label: str, drop: Collection[int] = ()) -> list[str]:
    """The cells of a leaf's row; ``drop`` leaves out cells by index (7: mean, 4: device)
    when the rows would not fit the width otherwise."""
    badges = " ".join(f"[{b}]" for b in leaf.badges)
    values = preview_cells(leaf.preview, leaf.text)
    if leaf.text is not None or (leaf.preview is not None and leaf.preview.kind == "skipped"):
        values = [_Tail(values[0])]
    cells = [label, leaf.kind, shape_str(leaf.shape, leaf.batch_dims), leaf.dtype, leaf.device,
             badges, *values]
    return [c for i, c in enumerate(cells) if i not in drop]


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
    widths = [max((len(r[i]) for r in cell_rows if i < len(r) and not isinstance(r[i], _Tail)),
                  default=0) for i in range(ncol)]
    out = []
    for row in rows:
        if isinstance(row, str):
            out.append(row)
            continue
        # a tail starts where its column starts, whatever the columns after it hold
        end = next((i for i, c in enumerate(row) if isinstance(c, _Tail)), None)
        cells = [row[i].ljust(widths[i]) if i < len(row) else "" for i in range(ncol)]
        if end is not None:
            cells = [*cells[:end], row[end]]
        out.append("  ".join(c for c, w in zip(cells, widths, strict=False) if w
                             or isinstance(c, _Tail)))
    return out


# ---------------------------------------------------------------- TensorDict tree


def _tree(root: Branch, width: int) -> list[str]:
    head = _branch_head(root, root.type_name)
    # One wide column (a pixel shape, a long key) must not push every row's numbers past
    # the width, where they would be cut mid-number: leave out the mean, then the device.
    for drop in ((), (7,), (7, 4)):
        rows: list[list[str] | str] = [head]
        leaves: list[Leaf | None] = [None]
        _tree_rows(root, "", rows, leaves, drop)
        columns = _columns(rows)
        # a note running past the width is cut at its end; numbers must not be
        if max((len(line) for line, row in zip(columns, rows, strict=True)
                if isinstance(row, list) and not isinstance(row[-1], _Tail)), default=0) <= width:
            break
    lines = [_with_spark(line, leaf, width)
             for line, leaf in zip(columns, leaves, strict=True)]
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
    branch: Branch,
    prefix: str,
    rows: list[list[str] | str],
    leaves: list[Leaf | None],
    drop: Collection[int] = (),
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
            _tree_rows(child, prefix + ("   " if last else "│  "), rows, leaves, drop)
        else:
            rows.append(_leaf_cells(child, prefix + elbow + child.key, drop))
            leaves.append(child)


# ---------------------------------------------------------------- modules


def _card_line(
    head: str, card: ModuleCard, cont: str, width: int, extra: str = ""
) -> list[str]:
    """``head  in_keys -> out_keys  (extra)``; when too long, ``-> out_keys`` goes on the
    next line under the in_keys and both wrap. ``cont`` starts every continuation line
    (the tree's guide lines)."""
    ins = ", ".join(compact_keys(card.in_keys)) or "-"
    outs = ", ".join(compact_keys(card.out_keys)) or "-"
    tail = f"({extra})" if extra else ""
    if not card.in_keys and not card.out_keys:  # declares no keys: no "- -> -" to show
        return [_join([head, tail])]
    line = f"{head}  "
    if len(line) + len(ins) + 4 + len(outs) + 2 + len(tail) <= width:
        return [_join([f"{line}{ins} -> {outs}", tail])]
    if len(line) + len(ins) + 4 + len(outs) <= width:
        lines = [f"{line}{ins} -> {outs}"]
    else:
        pad = cont + " " * max(len(line) - len(cont), 0)
        room = max(width - len(line), 20)
        in_lines = wrap_keys(card.in_keys, room) if card.in_keys else ["-"]
        out_lines = wrap_keys(card.out_keys, room - 3) if card.out_keys else ["-"]
        lines = [line + in_lines[0]] + [pad + w for w in in_lines[1:]]
        lines += [f"{pad}-> {out_lines[0]}"] + [f"{pad}   {w}" for w in out_lines[1:]]
    if tail:
        if len(lines[-1]) + 2 + len(tail) <= width:
            lines[-1] += "  " + tail
        else:
            lines += textwrap.wrap(tail, width, initial_indent=cont + "  ",
                                   subsequent_indent=cont + "   ", break_on_hyphens=False)
    return lines


def _card(card: ModuleCard, width: int) -> list[str]:
    lines = _card_line(card.name, card, "", width)
    if card.env_keys:
        lines += _headed(f"  from {card.inputs_from}: ", card.env_keys, width, "nothing")
    if card.details and card.children:  # a leaf card shows them in _card_rows
        lines += textwrap.wrap(_details(card), width, initial_indent="  ",
                               subsequent_indent="    ", break_on_hyphens=False)
    _card_rows(card, "", lines, width)
    return lines


def _details(card: ModuleCard) -> str:
    return ", ".join(f"{k} {v}" for k, v in card.details)


def _card_rows(card: ModuleCard, prefix: str, lines: list[str], width: int) -> None:
    if not card.children:
        if card.details and not prefix:
            lines.append(f"  {_details(card)}")
        return
    for i, child in enumerate(card.children):
        last = i == len(card.children) - 1
        cont = prefix + ("   " if last else "│  ")
        # continuation lines keep the tree's guide line, then align under the keys
        lines += _card_line(prefix + ("└─ " if last else "├─ ") + child.name, child,
                            cont + ("│  " if child.children else "   "), width, _details(child))
        _card_rows(child, cont, lines, width)


def _flow(flow: Flow, width: int) -> list[str]:
    head = [
        f"dataflow of {flow.name}",
        *_headed(f"  from {flow.inputs_from}: ", flow.env_keys, width, "nothing"),
        *_headed("  writes: ", flow.out_keys, width, "nothing"),
    ]
    table = _flow_table(flow, width, notes_below=False)
    if max(len(line.rstrip()) for line in table) > width:
        table = _flow_table(flow, width, notes_below=True)  # long notes get lines of their own
    return head + table


def _flow_table(flow: Flow, width: int, notes_below: bool) -> list[str]:
    # notes below a step start under its name: past the index column and its two spaces
    indent = " " * (max((len(str(s.index)) for s in flow.steps), default=1) + 2)
    mark = " (env)" if flow.inputs_from == "the environment" else " (batch)"
    rows: list[list[str]] = [["#", "step", "reads", "", "writes",
                              "" if notes_below else "notes"]]
    for step in flow.steps:
        rows.append([str(step.index), step.name,
                     ", ".join(compact_keys(step.reads, step.env_reads, mark)) or "-", "->",
                     ", ".join(compact_keys(step.writes)) or "-",
                     "" if notes_below else step.note])
    read_room = write_room = 0
    if notes_below:  # reads and writes share what the index, name and arrow leave
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        room = width - (widths[0] + 2) - (widths[1] + 2) - 4 - 2
        if widths[2] + widths[4] > room:
            read_room = min(widths[2], max(room - widths[4], room // 2, 20))
            write_room = max(room - read_room, 20)
    lines: list[list[str] | str] = [rows[0]]
    group = None
    for step, row in zip(flow.steps, rows[1:], strict=True):
        if step.group != group and step.group:
            lines.append(f"   {step.group}")
        group = step.group
        if not read_room:
            lines.append(row)
        else:
            reads = (wrap_keys(step.reads, read_room, step.env_reads, mark)
                     if step.reads else ["-"])
            writes = wrap_keys(step.writes, write_room) if step.writes else ["-"]
            for i in range(max(len(reads), len(writes))):
                lines.append(["" if i else row[0], "" if i else row[1],
                              reads[i] if i < len(reads) else "", "" if i else "->",
                              writes[i] if i < len(writes) else "", ""])
        if notes_below and step.note:
            lines.append(f"{indent}{step.note}")
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
