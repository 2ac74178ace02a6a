"""What a check finds (:class:`CheckResult`), and the two renderers: text and HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from rltutor._static import style_tag

__all__ = ["STATUSES", "CheckResult", "DoctorReport", "exit_code", "to_html", "to_text"]

# "fail": a lesson would fail here; "warn": the lessons run, something is off; "skip": the
# check does not apply (no GPU, an optional tool absent).
STATUSES = ("ok", "warn", "fail", "skip")
_MARK = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's table.

    Args:
        name: what was checked, short (``"torch"``, ``"device cuda"``).
        status: one of ``"ok"``, ``"warn"``, ``"fail"``, ``"skip"``.
        detail: what was found.
        fix: what to do about it (given whenever the status is not ok).

    >>> CheckResult("torch", "ok", "2.13.0 (pinned 2.13.0)").line()
    '✓ torch: 2.13.0 (pinned 2.13.0)'
    >>> CheckResult("torch", "fine", "")
    Traceback (most recent call last):
    ValueError: status 'fine' is not one of ok, warn, fail, skip
    """

    name: str
    status: str
    detail: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.status in {"warn", "fail"} and not self.fix:
            raise ValueError(f"a {self.status} result needs a fix: {self.name}")

    def line(self) -> str:
        """The result as one line of text, its fix at the end when it has one."""
        text = f"{_MARK[self.status]} {self.name}: {self.detail}"
        return f"{text} | fix: {self.fix}" if self.fix and self.status != "ok" else text


def exit_code(results: Sequence[CheckResult]) -> int:
    """1 when a check failed (a lesson would fail here), else 0.

    Args:
        results: the checks' results.

    >>> exit_code([CheckResult("a", "ok", ""), CheckResult("b", "warn", "x", "y")])
    0
    >>> exit_code([CheckResult("a", "fail", "x", "y")])
    1
    """
    return int(any(r.status == "fail" for r in results))


def _summary(results: Sequence[CheckResult]) -> str:
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    verdict = ("a lesson would fail here: fix the lines marked ✗" if counts["fail"]
               else "every lesson can run here")
    warnings = f"{counts['warn']} warning{'' if counts['warn'] == 1 else 's'}"
    failures = f"{counts['fail']} failure{'' if counts['fail'] == 1 else 's'}"
    return f"{counts['ok']} ok, {warnings}, {failures}, {counts['skip']} skipped: {verdict}"


def to_text(results: Sequence[CheckResult]) -> str:
    """One line per check, then a summary line.

    Args:
        results: the checks' results.

    >>> print(to_text([CheckResult("cpu", "ok", "one policy step"),
    ...                CheckResult("cuda", "fail", "step failed", "reinstall torch")]))
    ✓ cpu: one policy step
    ✗ cuda: step failed | fix: reinstall torch
    1 ok, 0 warnings, 1 failure, 0 skipped: a lesson would fail here: fix the lines marked ✗
    """
    return "\n".join([r.line() for r in results] + [_summary(results)])


def to_html(results: Sequence[CheckResult]) -> str:
    """The same table as HTML, for a notebook (styles from ``static/doctor.css``).

    Args:
        results: the checks' results.

    >>> page = to_html([CheckResult("cpu", "ok", "a <b> step")])
    >>> 'data-status="ok"' in page, "a &lt;b&gt; step" in page
    (True, True)
    """
    esc = html.escape
    rows = "".join(
        f'<tr data-status="{r.status}"><td class="mark">{_MARK[r.status]}</td>'
        f"<td>{esc(r.name)}</td><td>{esc(r.detail)}</td>"
        f"<td><code>{esc(r.fix if r.status != 'ok' else '')}</code></td></tr>"
        for r in results)
    return (style_tag("doctor.css") + '<div class="rltutor-doctor"><table>'
            "<thead><tr><th></th><th>check</th><th>found</th><th>fix</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><p>{esc(_summary(results))}</p></div>")


class DoctorReport(list):
    """A ``list`` of :class:`CheckResult` that prints as text and draws as HTML in Jupyter.

    >>> report = DoctorReport([CheckResult("cpu", "ok", "fine")])
    >>> print(report)
    ✓ cpu: fine
    1 ok, 0 warnings, 0 failures, 0 skipped: every lesson can run here
    >>> report.exit_code
    0
    """

    def __str__(self) -> str:
        return to_text(self)

    __repr__ = __str__

    @property
    def exit_code(self) -> int:
        """1 when a lesson would fail here (see :func:`exit_code`)."""
        return exit_code(self)

    def _repr_html_(self) -> str:
        return to_html(self)
