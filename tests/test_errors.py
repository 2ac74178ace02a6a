"""rltutor.expect_error: a mistake shown as its error line and hint, never a traceback."""

from __future__ import annotations

import pytest

import rltutor
from rltutor.errors import error_line, expect_error


def test_prints_the_error_line_and_the_hint_in_a_few_lines(capsys):
    from torchrl.envs import GymEnv
    from torchrl.modules import QValueModule

    env = GymEnv("CartPole-v1")
    with rltutor.expect_error(TypeError) as caught:
        QValueModule(env.action_spec)  # the classic slip of lesson 05
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("✗ TypeError: ")
    assert "QValueModule(spec=env.action_spec)" in out and len(lines) <= 5
    assert "Traceback" not in out and 'File "' not in out
    assert caught.hint is not None and caught.hint.code == "qvalue-positional-spec"


def test_unknown_mistake_shows_the_error_line_alone(capsys):
    with expect_error(ValueError) as caught:
        raise ValueError("first line\n" + "more detail\n" * 50)
    assert capsys.readouterr().out == "✗ ValueError: first line\n"
    assert caught.hint is None and isinstance(caught.error, ValueError)


def test_a_block_that_does_not_fail_is_an_error():
    with pytest.raises(AssertionError, match="ran without error"):
        with expect_error(KeyError):
            pass


def test_another_exception_type_propagates():
    with pytest.raises(ZeroDivisionError):
        with expect_error(KeyError):
            _ = 1 / 0


def test_no_types_means_any_exception_and_show_false_prints_nothing(capsys):
    with expect_error(show=False) as caught:
        [][1]
    assert capsys.readouterr().out == "" and isinstance(caught.error, IndexError)


def test_bad_argument_says_what_is_accepted():
    with pytest.raises(TypeError, match="exception types such as KeyError"):
        with expect_error("KeyError"):
            pass


def test_error_line_keeps_one_short_line():
    assert error_line(RuntimeError("a" * 1000)).endswith("…")
    assert len(error_line(RuntimeError("a" * 1000))) < 300
    assert error_line(RuntimeError("")) == "RuntimeError"
    assert "\n" not in error_line(RuntimeError("one\ntwo"))


def test_lessons_show_their_mistakes_with_expect_error():
    import re
    from pathlib import Path

    lessons = Path(__file__).resolve().parents[1] / "lessons"
    for number in ("03", "04", "05"):  # the lessons that make a mistake fail on purpose
        source = next(lessons.glob(f"{number}_*.py")).read_text()
        assert "with rltutor.expect_error(" in source, number
    for path in sorted(lessons.glob("0[1-7]_*.py")):
        source = path.read_text()
        # the old way: catch the error by hand and print it (no hint, easy to get wrong)
        assert not re.search(r"except \w+ as \w+:\n\s+print\(", source), path.name
