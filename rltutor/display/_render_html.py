"""HTML backend: nodes -> one self-contained HTML fragment (CSS inline, no JavaScript).

Nested TensorDicts and module parts fold with ``<details>``, so views work in
JupyterLab, in exported HTML and on GitHub. Every piece of text passes through ``esc``.
"""

from __future__ import annotations

import html

from rltutor._static import style_tag
from rltutor.display._format import batch_str, dtype_kind, key_groups, num, shape_parts
from rltutor.display._nodes import (
    BADGE_HELP,
    BATCH,
    INPUT,
    POLICY,
    VALUE,
    Branch,
    Change,
    DiffNode,
    Flow,
    Leaf,
    ModuleCard,
    Node,
    Opaque,
    Preview,
)

BADGE_LABEL = {POLICY: "policy", VALUE: "value", INPUT: "from env", BATCH: "from data"}
SPARK_W, SPARK_H = 96, 18


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def render(node: Node, open_depth: int = 1) -> str:
    """The HTML of ``node``: a ``<div class="rlt">`` carrying its own ``<style>``."""
    if isinstance(node, Branch):
        body = _tree(node, open_depth)
    elif isinstance(node, Leaf):
        body = _tensor(node)
    elif isinstance(node, ModuleCard):
        body = _card_root(node, open_depth)
    elif isinstance(node, Flow):
        body = _flow(node)
    elif isinstance(node, DiffNode):
        body = _diff(node)
    elif isinstance(node, Opaque):
        more = (f'<div class="rlt-more">... {node.more_chars:,} more characters</div>'
                if node.more_chars else "")
        body = (f'<div class="rlt-head"><span class="rlt-type">{esc(node.type_name)}</span></div>'
                f'<pre class="rlt-repr">{esc(node.text)}</pre>{more}')
    else:
        raise TypeError(f"no HTML renderer for {type(node).__name__}")
    return f'<div class="rlt">{style_tag("rltutor.css")}{body}</div>'


# ---------------------------------------------------------------- pieces


def _shape(shape: tuple[int, ...], batch_dims: int) -> str:
    batch, feat = shape_parts(shape, batch_dims)
    if batch_dims == 0:
        return f'<span class="rlt-shape">[{feat}]</span>'
    return (f'<span class="rlt-shape" title="batch dims | feature dims">[<span class="rlt-bd">'
            f'{batch}</span><span class="rlt-bar">|</span>{feat}]</span>')


def _dtype(dtype: str) -> str:
    return f'<span class="rlt-dt rlt-dt-{dtype_kind(dtype)}">{esc(dtype)}</span>'


def _badges(badges: tuple[str, ...]) -> str:
    return "".join(
        f'<span class="rlt-badge rlt-badge-{esc(b)}" title="{esc(BADGE_HELP.get(b, b))}">'
        f"{esc(BADGE_LABEL.get(b, b))}</span>"
        for b in badges
    )


def _spark(p: Preview) -> str:
    values = p.spark
    if not values:
        return ""
    n = len(values)
    title = f"<title>over {p.spark_steps} steps, {n} bins</title>"
    if p.kind == "bool":
        w = SPARK_W / n
        bars = "".join(
            f'<rect x="{i * w:.1f}" y="{SPARK_H - h:.1f}" width="{max(w - 1, 1):.1f}" '
            f'height="{h:.1f}"/>'
            for i, v in enumerate(values)
            if v > 0
            for h in [max(v, 0.5) * (SPARK_H - 2)]
        )
        body = f'<line x1="0" y1="{SPARK_H - 0.5}" x2="{SPARK_W}" y2="{SPARK_H - 0.5}"/>{bars}'
        cls = "rlt-sl rlt-sl-bool"
    else:
        step = SPARK_W / max(n - 1, 1)
        pts = " ".join(f"{i * step:.1f},{SPARK_H - 1 - v * (SPARK_H - 2):.1f}"
                       for i, v in enumerate(values))
        body = f'<polyline points="{pts}"/>'
        cls = "rlt-sl"
    return (f'<svg class="{cls}" width="{SPARK_W}" height="{SPARK_H}" '
            f'viewBox="0 0 {SPARK_W} {SPARK_H}">{title}{body}</svg>')


def _preview(p: Preview | None, text: str | None) -> tuple[str, str]:
    """(stats cell, sparkline cell)."""
    if text is not None:
        return f'<span class="rlt-text">{esc(text)}</span>', ""
    if p is None:
        return "", ""
    if p.kind == "bool":
        stats = f'<b>{p.true_count}</b><span class="rlt-m">/{p.total} true</span>'
    elif p.kind in ("float", "int"):
        stats = (f'<span class="rlt-m">min</span> {esc(num(p.low))} '
                 f'<span class="rlt-m">mean</span> {esc(num(p.mean))} '
                 f'<span class="rlt-m">max</span> {esc(num(p.high))}')
    elif p.kind == "empty":
        stats = '<span class="rlt-m">empty</span>'
    else:
        stats = f'<span class="rlt-m">{esc(p.note)}</span>'
    return stats, _spark(p)


def _leaf_row(leaf: Leaf) -> str:
    if leaf.kind:  # a spec: key | class | shape | dtype | device | space
        key = f'<span class="rlt-k">{esc(leaf.key)}</span>' if leaf.key else ""  # a bare spec
        return (f'{key}<span class="rlt-kind">{esc(leaf.kind)}</span>'
                f"{_shape(leaf.shape, leaf.batch_dims)}{_dtype(leaf.dtype)}"
                f'<span class="rlt-dev">{esc(leaf.device)}</span>'
                f'<span class="rlt-space">{esc(leaf.text or "")}</span>')
    stats, spark = _preview(leaf.preview, leaf.text)
    return (f'<span class="rlt-k">{esc(leaf.key)}{_badges(leaf.badges)}</span>'
            f"{_shape(leaf.shape, leaf.batch_dims)}{_dtype(leaf.dtype)}"
            f'<span class="rlt-dev">{esc(leaf.device)}</span>'
            f'<span class="rlt-st">{stats}</span><span class="rlt-sp">{spark}</span>')


def _legend(badges: set[str]) -> str:
    if not badges:
        return ""
    items = "".join(f"{_badges((b,))} {esc(BADGE_HELP.get(b, b))}" for b in sorted(badges))
    return f'<div class="rlt-legend">{items}</div>'


# ---------------------------------------------------------------- TensorDict tree


def _branch_head(b: Branch, name: str | None) -> str:
    key = f'<span class="rlt-k">{esc(name)}</span>' if name is not None else ""
    device = f' <span class="rlt-dev">{esc(b.device)}</span>' if b.device else ""
    note = f' <span class="rlt-note">{esc(b.note)}</span>' if b.note else ""
    return (f'{key}{_badges(b.badges)}<span class="rlt-type">{esc(b.type_name)}</span> '
            f'<span class="rlt-batch">{esc(batch_str(b.batch_size, b.names))}</span>'
            f"{device}{note}")


def _grid(branch: Branch, depth: int, open_depth: int) -> str:
    parts = []
    for child in branch.children:
        if isinstance(child, Branch):
            opened = " open" if depth < open_depth else ""
            parts.append(
                f'<details class="rlt-sub"{opened}><summary>{_branch_head(child, child.key)}'
                f"</summary>{_grid(child, depth + 1, open_depth)}</details>"
            )
        else:
            parts.append(_leaf_row(child))
    if branch.more:
        parts.append(f'<div class="rlt-more">... {branch.more} more keys '
                     f"(max_keys limit)</div>")
    return f'<div class="rlt-grid">{"".join(parts)}</div>'


def _badges_in(branch: Branch) -> set[str]:
    found: set[str] = set(branch.badges)
    for child in branch.children:
        found |= _badges_in(child) if isinstance(child, Branch) else set(child.badges)
    return found


def _tree(root: Branch, open_depth: int) -> str:
    return (f'<div class="rlt-head">{_branch_head(root, None)}</div>'
            f"{_grid(root, 0, open_depth)}{_legend(_badges_in(root))}")


def _tensor(leaf: Leaf) -> str:
    return f'<div class="rlt-grid">{_leaf_row(leaf)}</div>'


# ---------------------------------------------------------------- modules


def _keys(keys: tuple[str, ...], env: tuple[str, ...] = (), cls: str = "") -> str:
    """One chip per key, or per run of keys with one parent: ``action.{direction, force}``,
    the shared parent drawn faint so the names stand out."""
    if not keys:
        return '<span class="rlt-m">nothing</span>'
    chips = []
    for prefix, names, is_env in key_groups(keys, env):
        parent = f'<span class="rlt-kp">{esc(prefix)}</span>' if prefix else ""
        if len(names) == 1:
            body = esc(names[0])
        else:
            body = ('<span class="rlt-kp">{</span>'
                    + '<span class="rlt-kp">, </span>'.join(esc(n) for n in names)
                    + '<span class="rlt-kp">}</span>')
        title = ", ".join(prefix + n for n in names)
        chips.append(f'<span class="rlt-key{" rlt-key-env" if is_env else ""}{cls}" '
                     f'title="{esc(title)}">{parent}{body}</span>')
    return "".join(chips)


def _io(card: ModuleCard, env: tuple[str, ...] = ()) -> str:
    if not card.in_keys and not card.out_keys:  # declares no keys: nothing to draw
        return ""
    return (f'<span class="rlt-io">{_keys(card.in_keys, env)}<span class="rlt-arrow">→</span>'
            f"{_keys(card.out_keys, cls=' rlt-key-out')}</span>")


def _details(card: ModuleCard) -> str:
    if not card.details:
        return ""
    items = "".join(f'<span class="rlt-m">{esc(k)}</span> {esc(v)}' for k, v in card.details)
    return f'<div class="rlt-facts">{items}</div>'


def _card(card: ModuleCard, depth: int, open_depth: int) -> str:
    head = f'<span class="rlt-type">{esc(card.name)}</span>{_io(card)}'
    if not card.children:
        return f'<div class="rlt-card">{head}{_details(card)}</div>'
    opened = " open" if depth < open_depth + 1 else ""
    kids = "".join(_card(c, depth + 1, open_depth) for c in card.children)
    return (f'<details class="rlt-sub"{opened}><summary>{head}</summary>{_details(card)}'
            f'<div class="rlt-kids">{kids}</div></details>')


def _card_root(card: ModuleCard, open_depth: int) -> str:
    source = (_badges((INPUT,)) if card.inputs_from == "the environment"
              else f'<span class="rlt-m">from {esc(card.inputs_from)}</span>')
    env = (f'<div class="rlt-legend">{source} '
           f"{_keys(card.env_keys, card.env_keys)}</div>") if card.env_keys else ""
    head = (f'<div class="rlt-head"><span class="rlt-type">{esc(card.name)}</span>'
            f"{_io(card, card.env_keys)}</div>")
    kids = "".join(_card(c, 1, open_depth) for c in card.children)
    return f'{head}{env}{_details(card)}<div class="rlt-kids">{kids}</div>'


def _flow(flow: Flow) -> str:
    rows = []
    group = None
    for step in flow.steps:
        if step.group != group and step.group:
            rows.append(f'<div class="rlt-group">{esc(step.group)}</div>')
        group = step.group
        note = f'<div class="rlt-note">{esc(step.note)}</div>' if step.note else ""
        rows.append(
            f'<div class="rlt-fin">{_keys(step.reads, step.env_reads)}</div>'
            f'<div class="rlt-arrow">→</div>'
            f'<div class="rlt-step"><span class="rlt-idx">{step.index}</span>'
            f'<span class="rlt-type">{esc(step.name)}</span>{note}</div>'
            f'<div class="rlt-arrow">→</div>'
            f'<div class="rlt-fout">{_keys(step.writes, cls=" rlt-key-out")}</div>'
        )
    head = (f'<div class="rlt-head"><span class="rlt-m">dataflow of</span> '
            f'<span class="rlt-type">{esc(flow.name)}</span>'
            f'<span class="rlt-io"><span class="rlt-m">from {esc(flow.inputs_from)}</span>'
            f"{_keys(flow.env_keys, flow.env_keys)}</span>"
            f'<span class="rlt-io"><span class="rlt-m">writes</span>'
            f"{_keys(flow.out_keys, cls=' rlt-key-out')}</span></div>")
    legend = ('<div class="rlt-legend"><span class="rlt-key rlt-key-env">key</span> '
              f"must come from {esc(flow.inputs_from)} "
              '<span class="rlt-key rlt-key-out">key</span> written by a step</div>')
    return f'{head}<div class="rlt-flow">{"".join(rows)}</div>{legend}'


# ---------------------------------------------------------------- diff

STATUS = {"added": "+", "removed": "−", "changed": "~", "same": "="}


def _side(leaf: Leaf | None) -> str:
    if leaf is None:
        return '<span class="rlt-m">—</span>'
    return f"{_shape(leaf.shape, leaf.batch_dims)} {_dtype(leaf.dtype)}"


def _change_row(ch: Change) -> str:
    leaf = ch.after or ch.before
    if ch.status == "changed":
        info = (f'<span class="rlt-what">{esc("+".join(ch.what))}</span> '
                f"{esc(ch.detail)}")
    else:
        info = _preview(leaf.preview if leaf else None, leaf.text if leaf else None)[0]
    return (f'<span class="rlt-status rlt-s-{ch.status}" title="{ch.status}">'
            f"{STATUS[ch.status]}</span>"
            f'<span class="rlt-k">{esc(ch.key)}</span>'
            f"<span>{_side(ch.before)}</span><span>{_side(ch.after)}</span>"
            f'<span class="rlt-st">{info}</span>')


def _diff(node: DiffNode) -> str:
    c = node.counts
    summary = "".join(
        f'<span class="rlt-status rlt-s-{s}">{STATUS[s]}</span> {c[s]} '
        f'{s if s != "same" else "unchanged"} '
        for s in ("added", "removed", "changed", "same")
    )
    note = f'<div class="rlt-warn">{esc(node.note)}</div>' if node.note else ""
    header = ('<span></span><span class="rlt-m">key</span><span class="rlt-m">before</span>'
              '<span class="rlt-m">after</span><span class="rlt-m">what changed</span>')
    rows = "".join(_change_row(ch) for ch in node.changes)
    more = (f'<div class="rlt-more">... {node.more} more keys (max_keys limit)</div>'
            if node.more else "")
    table = f'<div class="rlt-diff">{header}{rows}</div>' if node.changes else ""
    return (f'<div class="rlt-head"><span class="rlt-type">diff</span> {summary}</div>'
            f"{note}{table}{more}")
