"""Checked exercises: each lesson has a module here (``lesson01`` ...) of ``check_*`` calls.

A check never raises. It returns a :class:`Feedback` that says one of three things:
the exercise is not done yet (the learner's cell still holds ``None`` or ``...``), the
answer is right, or it is wrong, with what was wrong and a hint. That lets a lesson run
top to bottom while its exercises are still open.

    >>> from rltutor.exercises import Feedback, not_done
    >>> not_done("set `policy` to your TensorDictModule").status
    'not done yet'
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from rltutor._static import style_tag

__all__ = ["Feedback", "correct", "exercise", "is_unanswered", "not_done", "wrong"]

Status = Literal["correct", "wrong", "not done yet"]

_LABEL = {  # colours per status are in rltutor/static/panels.css
    "correct": "✓ Correct",
    "wrong": "✗ Not yet right",
    "not done yet": "… Not done yet",
}


@dataclass(frozen=True)
class Feedback:
    """The verdict of one exercise check, shown as a coloured box in Jupyter.

    Args:
        status: "correct", "wrong" or "not done yet".
        message: what the check found.
        hint: what to try next (for a wrong answer).

    >>> Feedback("correct", "The policy writes 'action'.").passed
    True
    """

    status: Status
    message: str
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        label = _LABEL[self.status]
        text = f"{label}: {self.message}"
        return f"{text}\n  Hint: {self.hint}" if self.hint else text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        label = _LABEL[self.status]
        hint = (
            f'<div class="rltutor-hint"><b>Hint:</b> {html.escape(self.hint)}</div>'
            if self.hint
            else ""
        )
        return (
            f'{style_tag("panels.css")}'
            f'<div class="rltutor-box rltutor-feedback" data-status="{html.escape(self.status)}">'
            f"<b>{html.escape(label)}</b> {html.escape(self.message)}{hint}</div>"
        )


def correct(message: str) -> Feedback:
    """A passing verdict.

    Args:
        message: what was right.

    >>> correct("Well done").passed
    True
    """
    return Feedback("correct", message)


def wrong(message: str, hint: str = "") -> Feedback:
    """A failing verdict with a hint.

    Args:
        message: what was wrong.
        hint: what to try next.

    >>> print(wrong("No 'action' key", "Check out_keys"))
    ✗ Not yet right: No 'action' key
      Hint: Check out_keys
    """
    return Feedback("wrong", message, hint)


def not_done(message: str) -> Feedback:
    """The exercise cell has not been filled in.

    Args:
        message: what the learner should fill in.

    >>> not_done("Replace None").status
    'not done yet'
    """
    return Feedback("not done yet", message)


def is_unanswered(answer: Any) -> bool:
    """``True`` for the placeholders lessons leave in exercise cells: ``None`` and ``...``.

    Args:
        answer: the learner's answer.

    >>> is_unanswered(...), is_unanswered(0)
    (True, False)
    """
    return answer is None or answer is Ellipsis


Check = Callable[..., Feedback]


def exercise(placeholder_message: str) -> Callable[[Check], Check]:
    """Decorate a check so that placeholders and crashes become feedback, never exceptions.

    The first argument of the check is the learner's answer. If it is still a
    placeholder the check reports "not done yet"; if checking it raises, the error
    is reported as a wrong answer with the exception's message.

    Args:
        placeholder_message: what "not done yet" says to fill in.

    >>> @exercise("Set `answer` to 42.")
    ... def check_answer(answer):
    ...     return correct("42 it is.") if answer == 42 else wrong("Not 42.", "Count again.")
    >>> check_answer(None).status
    'not done yet'
    """

    def decorate(check: Check) -> Check:
        @wraps(check)
        def run(answer: Any = None, *args: Any, **kwargs: Any) -> Feedback:
            if is_unanswered(answer):
                return not_done(placeholder_message)
            try:
                return check(answer, *args, **kwargs)
            except Exception as error:  # the learner's object failed: explain, don't crash
                where = traceback.extract_tb(error.__traceback__)[-1]
                return wrong(
                    f"checking your answer raised {type(error).__name__}: {error}",
                    f"(raised in {where.name}) fix that error first, then run the check again",
                )

        return run

    return decorate
