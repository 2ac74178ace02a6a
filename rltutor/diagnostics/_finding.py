"""What a diagnostic reports: a :class:`Finding` (what, why, fix) and a list of them."""

from __future__ import annotations

import html
from dataclasses import dataclass

from rltutor._static import style_tag

__all__ = ["Finding", "Findings"]


@dataclass(frozen=True)
class Finding:
    """One mistake found in a policy: ``what`` is wrong, ``why`` it matters, the ``fix``.

    Args:
        what: what is wrong, in one line.
        why: why it matters.
        fix: how to fix it, as code when possible.
        code: a short stable name for tests and filters (e.g. ``"recurrent-no-primer"``).
        keys: the keys it is about (dotted), when it is about keys.

    >>> f = Finding("no primer", "the state resets", "append the primer", "recurrent-no-primer")
    >>> print(f)
    ⚠ no primer
      why: the state resets
      fix: append the primer
    """

    what: str
    why: str
    fix: str
    code: str = ""
    keys: tuple[str, ...] = ()  # the keys it is about, dotted, when it is about keys

    def __str__(self) -> str:
        return f"⚠ {self.what}\n  why: {self.why}\n  fix: {self.fix}"

    __repr__ = __str__  # dataclass keeps a __repr__ defined in the class body

    def _box(self) -> str:
        esc = html.escape
        return (
            f'<div class="rltutor-box rltutor-finding" data-code="{esc(self.code)}">'
            f"<b>⚠ {esc(self.what)}</b>"
            f"<div><b>why:</b> {esc(self.why)}</div>"
            f"<div><b>fix:</b> <code>{esc(self.fix)}</code></div></div>"
        )

    def _repr_html_(self) -> str:
        return style_tag("panels.css") + self._box()


class Findings(list):
    """A ``list`` of :class:`Finding` that also renders as a block in Jupyter."""

    def __str__(self) -> str:
        if not self:
            return "✓ no known mistakes found"
        return "\n".join(str(f) for f in self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if not self:
            boxes = ('<div class="rltutor-box rltutor-finding" data-code="ok">'
                     "<b>✓ no known mistakes found</b></div>")
        else:
            boxes = "".join(f._box() for f in self)
        return style_tag("panels.css") + boxes
