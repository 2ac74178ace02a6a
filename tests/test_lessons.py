"""The lesson pair checker (rltutor/lessons.py) and the real lessons/ folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

from rltutor.lessons import check_pairs, lesson_files, main, strip_outputs

LESSONS = Path(__file__).resolve().parents[1] / "lessons"

SOURCE = """\
# %% [markdown]
# # A tiny lesson

# %%
x = 1 + 1
x
"""


def _write_pair(folder: Path, name: str = "01_tiny") -> Path:
    py = folder / f"{name}.py"
    py.write_text(SOURCE)
    nb = jupytext.read(py)
    nbformat.write(nb, py.with_suffix(".ipynb"))
    return py


def test_pair_in_sync_has_no_problems(tmp_path: Path) -> None:
    _write_pair(tmp_path)
    assert check_pairs(tmp_path) == []
    assert main(["check", str(tmp_path)]) == 0


def test_editing_the_py_without_syncing_names_the_lesson_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    py = _write_pair(tmp_path)
    py.write_text(SOURCE.replace("1 + 1", "2 + 2"))
    problems = check_pairs(tmp_path)
    assert len(problems) == 1
    assert problems[0].lesson == "01_tiny"
    assert "cell 2" in problems[0].problem
    assert "make sync" in problems[0].fix
    assert main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "01_tiny" in err and "make sync" in err


def test_committed_outputs_are_flagged_and_strip_removes_them(tmp_path: Path) -> None:
    py = _write_pair(tmp_path)
    ipynb = py.with_suffix(".ipynb")
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[1].execution_count = 3
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    nbformat.write(nb, ipynb)
    assert any("outputs" in p.problem for p in check_pairs(tmp_path))
    assert strip_outputs(tmp_path) == [ipynb]
    assert check_pairs(tmp_path) == []


def test_missing_partner_is_reported_both_ways(tmp_path: Path) -> None:
    py = _write_pair(tmp_path)
    py.with_suffix(".ipynb").unlink()
    assert "no paired" in check_pairs(tmp_path)[0].problem
    _write_pair(tmp_path, "02_other")
    (tmp_path / "02_other.py").unlink()
    assert any(p.lesson == "02_other" for p in check_pairs(tmp_path))


def test_real_lessons_are_in_sync_and_clean(tmp_path: Path) -> None:
    assert lesson_files(LESSONS), "no lessons found"
    problems = check_pairs(LESSONS)
    assert problems == [], "\n".join(map(str, problems))


def test_real_lessons_are_numbered_in_order() -> None:
    numbers = [int(p.name[:2]) for p in lesson_files(LESSONS)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_solutions_do_not_pose_as_lessons(tmp_path: Path) -> None:
    # lessons/solutions must never be picked up as lessons (or by nbmake as notebooks)
    shutil.copytree(LESSONS / "solutions", tmp_path / "solutions", dirs_exist_ok=True)
    assert not list((tmp_path / "solutions").glob("*.ipynb"))
