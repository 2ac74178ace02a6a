"""Show a mistake failing in a few lines: the error line and rltutor's hint, no traceback.

Lessons show classic mistakes on purpose. A bare failing cell prints screens of
TorchRL's internal frames; :func:`expect_error` prints what a learner needs instead::

    >>> with expect_error(ZeroDivisionError):
    ...     1 / 0
    ✗ ZeroDivisionError: division by zero

For the mistakes :mod:`rltutor.diagnostics` knows, the hint follows the error line
(what went wrong, why, and the fix). A block that does *not* fail is itself an error:
the lesson claimed a failure that did not happen.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rltutor.diagnostics import Finding, hint_for

__all__ = ["ExpectedError", "error_html", "error_line", "expect_error"]

_MAX_CHARS = 240  # one error line stays one line


def error_line(error: BaseException, max_chars: int = _MAX_CHARS) -> str:
    """``"TypeName: first line of the message"``, cut to ``max_chars`` with an ellipsis.

    Args:
        error: the exception to describe.
        max_chars: the longest message kept; longer ones end in "…".

    >>> error_line(KeyError("no 'action' here"))
    'KeyError: "no \\'action\\' here"'
    >>> error_line(ValueError("x" * 50), max_chars=10)
    'ValueError: xxxxxxxxxx…'
    """
    lines = str(error).strip().splitlines()
    message = lines[0].strip() if lines else ""
    if len(message) > max_chars:
        message = message[:max_chars].rstrip() + "…"
    name = type(error).__name__
    return f"{name}: {message}" if message else name


def error_html(error: BaseException, what: str = "Could not update.") -> str:
    """A panel's error area: ``what``, the error's first line, and rltutor's fix if known.

    Live panels and the training monitor show a failed redraw with it (no widget needed).

    Args:
        error: the exception a callback raised.
        what: what failed, said first.

    >>> error_html(ValueError("bad <value>"))
    '<div class="msg">Could not update. ValueError: bad &lt;value&gt;</div>'
    """
    finding = hint_for(error)
    hint = ("" if finding is None else
            f'<div class="hint">{html.escape(finding.what)}. Fix: {html.escape(finding.fix)}</div>')
    return f'<div class="msg">{html.escape(what)} {html.escape(error_line(error))}{hint}</div>'


@dataclass
class ExpectedError:
    """What an :func:`expect_error` block raised: the ``error`` and rltutor's ``hint``.

    Both are ``None`` until the block has failed (read them after the ``with``).
    """

    error: BaseException | None = None
    hint: Finding | None = None

    def __str__(self) -> str:
        if self.error is None:
            return "(no error yet)"
        text = f"✗ {error_line(self.error)}"
        if self.hint is not None:
            text += f"\n  what: {self.hint.what}\n  why:  {self.hint.why}\n  fix:  {self.hint.fix}"
        return text


@contextmanager
def expect_error(
    *types: type[BaseException], show: bool = True
) -> Iterator[ExpectedError]:
    """Run a block that must fail; print its error line and hint instead of a traceback.

    Args:
        *types: the exception types the block may raise (any ``Exception`` when none are
            given). Another type propagates as usual: an unexpected failure stays loud.
        show: print the error line and the hint (``False`` to only record them).

    Raises:
        AssertionError: the block ran without raising, so the failure it was meant to
            show did not happen.

    >>> with expect_error(KeyError, show=False) as caught:
    ...     {}["action"]
    >>> type(caught.error).__name__
    'KeyError'
    >>> with expect_error(KeyError):
    ...     {}["sample_log_prob"]  # a mistake rltutor knows: its hint follows
    ✗ KeyError: 'sample_log_prob'
      what: a key named 'sample_log_prob'
      why:  TorchRL renamed it: probabilistic actors write 'action_log_prob' now
      fix:  read td['action_log_prob'] instead
    """
    accepted = types or (Exception,)
    for kind in accepted:
        if not (isinstance(kind, type) and issubclass(kind, BaseException)):
            raise TypeError(
                f"expect_error takes exception types such as KeyError or RuntimeError, "
                f"got {kind!r}"
            )
    caught = ExpectedError()
    try:
        yield caught
    except accepted as error:
        caught.error, caught.hint = error, hint_for(error)
        error.__traceback__ = None  # the frames are what we promised not to show
    else:
        names = ", ".join(t.__name__ for t in accepted)
        raise AssertionError(f"expected the block to raise {names}, but it ran without error")
    if show:
        print(caught)
