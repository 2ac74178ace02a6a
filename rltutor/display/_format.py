"""Small formatters both backends share: numbers, shapes, batch sizes, key groups, text cuts.

A rule for how something is written lives here once, so the text and HTML views of one
object always say the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

__all__ = ["batch_str", "compact_keys", "dtype_kind", "key_groups", "num", "shape_parts",
           "shape_str", "shorten", "wrap_keys"]


def num(value: float | None) -> str:
    """Three significant digits, whole numbers without a decimal point; ``-`` for None.

    Args:
        value: the number to write, or None.

    >>> num(2.0), num(0.123456), num(None)
    ('2', '0.123', '-')
    """
    if value is None:
        return "-"
    if math.isfinite(value) and value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def shape_parts(shape: tuple[int, ...], batch_dims: int) -> tuple[str, str]:
    """The batch dims and the feature dims of ``shape``, each as space-separated sizes.

    Args:
        shape: the full shape of a tensor.
        batch_dims: how many leading dims are the TensorDict's batch.

    >>> shape_parts((200, 3), 1)
    ('200', '3')
    """
    batch = " ".join(str(s) for s in shape[:batch_dims])
    feat = " ".join(str(s) for s in shape[batch_dims:])
    return batch, feat


def shape_str(shape: tuple[int, ...], batch_dims: int) -> str:
    """``[200 | 3]``: batch dims, a bar, feature dims (no bar when there is no batch).

    Args:
        shape: the full shape of a tensor.
        batch_dims: how many leading dims are the TensorDict's batch.

    >>> shape_str((200, 3), 1), shape_str((200,), 1), shape_str((3,), 0)
    ('[200 | 3]', '[200 |]', '[3]')
    """
    batch, feat = shape_parts(shape, batch_dims)
    if batch_dims == 0:
        return f"[{feat}]"
    return f"[{batch} | {feat}]" if feat else f"[{batch} |]"


def batch_str(batch_size: tuple[int, ...], names: tuple[str | None, ...] = ()) -> str:
    """``batch [1000]``, or ``batch [4, 1000] (-, time)`` when dims have names.

    Args:
        batch_size: the TensorDict's batch size.
        names: its dim names (None for an unnamed dim); all None shows no names.

    >>> batch_str((4, 1000), (None, "time"))
    'batch [4, 1000] (-, time)'
    """
    text = f"batch [{', '.join(str(s) for s in batch_size)}]"
    if any(names):
        return f"{text} ({', '.join(n or '-' for n in names)})"
    return text


def dtype_kind(dtype: str) -> str:
    """The family of a dtype name: ``"float"``, ``"int"``, ``"bool"`` or ``"other"``.

    Args:
        dtype: a dtype as written in views, e.g. ``"float32"``.

    >>> dtype_kind("bfloat16"), dtype_kind("uint8"), dtype_kind("non-tensor")
    ('float', 'int', 'other')
    """
    if dtype == "bool":
        return "bool"
    if dtype.startswith(("float", "bfloat", "complex")):
        return "float"
    if dtype.startswith(("int", "uint")):
        return "int"
    return "other"


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters on one line, ending with "…" when cut.

    Args:
        text: any text; runs of whitespace (newlines too) become one space.
        limit: the most characters kept.

    >>> shorten("a  long\\nvalue", 8)
    'a long …'
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def key_groups(
    keys: Sequence[str], marked: Collection[str] = ()
) -> list[tuple[str, list[str], bool]]:
    """Neighbouring dotted keys with one parent, as ``(prefix, names, marked)``.

    A group never mixes keys in ``marked`` with others.

    Args:
        keys: dotted keys in the order they are shown.
        marked: keys drawn differently (e.g. the ones from the environment).

    >>> key_groups(["action.direction", "action.force", "obs"])
    [('action.', ['direction', 'force'], False), ('', ['obs'], False)]
    """
    groups: list[tuple[str, list[str], bool]] = []
    for key in keys:
        parent, dot, name = key.rpartition(".")
        prefix, is_marked = parent + dot, key in marked
        last = groups[-1] if groups else None
        if last is not None and prefix and last[0] == prefix and last[2] == is_marked:
            last[1].append(name)
        else:
            groups.append((prefix, [name], is_marked))
    return groups


def compact_keys(keys: Sequence[str], marked: Collection[str] = (), mark: str = "") -> list[str]:
    """Keys written compactly: ``action.{direction, force}``; ``mark`` follows marked ones.

    >>> compact_keys(["hidden", "params.force.loc", "params.force.scale"])
    ['hidden', 'params.force.{loc, scale}']
    """
    return [
        prefix + (names[0] if len(names) == 1 else "{" + ", ".join(names) + "}")
        + (mark if is_marked else "")
        for prefix, names, is_marked in key_groups(keys, marked)
    ]


def wrap_keys(
    keys: Sequence[str], room: int, marked: Collection[str] = (), mark: str = ""
) -> list[str]:
    """``compact_keys`` joined by ", " in lines of at most ``room`` characters (when a key
    allows); a ``{…}`` group breaks between names and goes on under its first name.

    >>> wrap_keys(["action.direction", "action.force"], 20)
    ['action.{direction,', '        force}']
    """
    lines: list[str] = []
    line = ""

    def add(text: str, indent: int) -> None:
        nonlocal line
        if not line:
            line = text
        elif len(line) + 2 + len(text) < room:  # < keeps room for a trailing comma
            line += ", " + text
        else:
            lines.append(line + ",")
            line = " " * indent + text

    for prefix, names, is_marked in key_groups(keys, marked):
        end = mark if is_marked else ""
        whole = prefix + (names[0] if len(names) == 1 else "{" + ", ".join(names) + "}") + end
        if len(names) == 1 or len(whole) < room:  # a group breaks only if it must
            if line and len(line) + 2 + len(whole) >= room:
                lines.append(line + ",")
                line = ""
            add(whole, 0)
            continue
        last = len(names) - 1
        for i, name in enumerate(names):
            add(("" if i else prefix + "{") + name + ("}" + end if i == last else ""),
                len(prefix) + 1 if i else 0)
    return [*lines, line]
