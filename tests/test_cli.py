"""The ``rltutor`` command and the course it copies out (rltutor/cli.py, rltutor/course.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rltutor import cli
from rltutor.course import PATTERNS, copy_course, course_files, course_root
from rltutor.doctor import CheckResult, DoctorReport

ROOT = Path(__file__).resolve().parents[1]
LESSON = Path("lessons/01_tensordict_module")


@pytest.fixture()
def course(tmp_path: Path) -> Path:
    """A small course of our own (two lessons, a solution, a results file) to change."""
    root = tmp_path / "source"
    for rel in ["lessons/01_a.py", "lessons/01_a.ipynb", "lessons/02_b.py", "lessons/02_b.ipynb",
                "lessons/solutions/01_a.py", "benchmarks/x_results.json"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"course version 1 of {rel}\n")
    return root


def test_help_lists_lessons_lab_and_doctor(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(re.search(rf"^\s+{c}\s", out, re.M) for c in ("lessons", "lab", "doctor"))


def test_the_entry_point_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    scripts = text[text.index("[project.scripts]"):].split("\n[", 1)[0]
    assert re.search(r'^rltutor = "rltutor\.cli:main"$', scripts, re.M)


def test_the_build_copies_what_the_course_is_made_of():
    # setup.py's list (what goes into the wheel) and rltutor.course's (what is copied out)
    tree = ast.parse((ROOT / "setup.py").read_text())
    course = next(ast.literal_eval(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], "id", "") == "COURSE")
    assert set(course) == {*PATTERNS, "constraints.txt"}


def test_the_checkout_is_the_course():
    assert course_root() in (ROOT, ROOT / "rltutor" / "_course")
    files = set(course_files())
    lessons = {p.relative_to(ROOT) for p in (ROOT / "lessons").rglob("[0-9][0-9]_*")
               if p.suffix in {".py", ".ipynb"}}
    assert lessons and lessons <= files
    assert all((ROOT / "lessons" / f"{p.stem}.py").exists() for p in files if p.suffix == ".ipynb")


def test_lessons_copies_every_course_file(tmp_path, capsys):
    assert cli.main(["lessons", str(tmp_path / "c")]) == 0
    for rel in course_files():
        assert (tmp_path / "c" / rel).read_bytes() == (course_root() / rel).read_bytes(), rel
    assert "rltutor lab" in capsys.readouterr().out


def test_files_a_lesson_reads_travel_with_it(tmp_path):
    # lessons 13-14 read ../benchmarks/*.json: in the copy, those paths must resolve
    copy_course(tmp_path)
    read = {m for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py")
            for m in re.findall(r"Path\(\"(\.\./[^\"]+)\"\)", p.read_text(encoding="utf-8"))}
    assert read, "no lesson reads a file next to it any more: simplify this test"
    missing = [r for r in read if not (tmp_path / "lessons" / r).resolve().is_file()]
    assert not missing, f"lessons read files the copied course lacks: {missing}"


def test_an_edited_notebook_is_kept_and_the_way_on_is_named(tmp_path, capsys):
    dest = tmp_path / "c"
    copy_course(dest)
    notebook = dest / LESSON.with_suffix(".ipynb")
    notebook.write_text("my edits")
    assert cli.main(["lessons", str(dest)]) == 1
    out = capsys.readouterr().out
    assert notebook.read_text() == "my edits"
    assert str(LESSON.with_suffix(".ipynb")) in out
    assert "--alongside" in out and "--overwrite" in out


def test_alongside_keeps_the_edit_and_writes_the_course_beside_it(tmp_path):
    dest = tmp_path / "c"
    copy_course(dest)
    notebook = dest / LESSON.with_suffix(".ipynb")
    notebook.write_text("my edits")
    assert cli.main(["lessons", str(dest), "--alongside"]) == 0
    assert notebook.read_text() == "my edits"
    for suffix in (".ipynb", ".py"):  # the pair, so jupytext pairs the two copies
        beside = dest / LESSON.with_name(f"{LESSON.name}.course{suffix}")
        assert beside.read_bytes() == (course_root() / LESSON.with_suffix(suffix)).read_bytes()


def test_overwrite_replaces_the_edit(tmp_path):
    dest = tmp_path / "c"
    copy_course(dest)
    notebook = dest / LESSON.with_suffix(".ipynb")
    notebook.write_text("my edits")
    assert cli.main(["lessons", str(dest), "--overwrite"]) == 0
    assert notebook.read_bytes() == (course_root() / LESSON.with_suffix(".ipynb")).read_bytes()


def test_a_new_course_version_updates_untouched_files_only(course, tmp_path):
    dest = tmp_path / "c"
    assert copy_course(dest, root=course).written
    (dest / "lessons/01_a.ipynb").write_text("learner ran it and saved")
    for rel in ["lessons/01_a.py", "lessons/01_a.ipynb", "lessons/02_b.py", "lessons/02_b.ipynb"]:
        (course / rel).write_text(f"course version 2 of {rel}\n")
    report = copy_course(dest, root=course)
    assert set(map(str, report.updated)) == {"lessons/02_b.py", "lessons/02_b.ipynb"}
    # the edited notebook is kept, and its .py twin with it: a pair never mixes versions
    assert set(map(str, report.kept)) == {"lessons/01_a.py", "lessons/01_a.ipynb"}
    assert (dest / "lessons/01_a.py").read_text() == "course version 1 of lessons/01_a.py\n"
    assert not report.ok


def test_a_second_copy_changes_nothing(course, tmp_path):
    copy_course(tmp_path, root=course)
    report = copy_course(tmp_path, root=course)
    assert not report.written and not report.updated and not report.kept
    assert len(report.unchanged) == 6


def test_an_edited_course_copy_beside_is_not_overwritten_either(course, tmp_path):
    copy_course(tmp_path, root=course)
    (tmp_path / "lessons/01_a.ipynb").write_text("mine")
    copy_course(tmp_path, root=course, on_conflict="alongside")
    (tmp_path / "lessons/01_a.course.ipynb").write_text("mine too")
    report = copy_course(tmp_path, root=course, on_conflict="alongside")
    assert (tmp_path / "lessons/01_a.course.ipynb").read_text() == "mine too"
    assert Path("lessons/01_a.course-2.ipynb") in report.beside


def test_a_wrong_choice_is_refused_with_the_accepted_ones(tmp_path):
    with pytest.raises(ValueError, match="refuse, alongside, overwrite"):
        copy_course(tmp_path, on_conflict="merge")


def test_lab_listens_on_localhost_with_a_token():
    command = cli.lab_command(Path("c"), is_root=False)
    assert "--ServerApp.ip=127.0.0.1" in command
    assert "--ServerApp.root_dir=c/lessons" in command
    assert not any("token" in part.lower() or "password" in part.lower() for part in command)
    assert "--allow-root" not in command
    assert cli.lab_command(Path("c"), is_root=True)[-1] == "--allow-root"


def test_lab_copies_the_course_first_and_starts_jupyterlab(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(cli.subprocess, "call", lambda command: started.append(command) or 0)
    assert cli.main(["lab", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / LESSON.with_suffix(".ipynb")).exists()
    assert started == [cli.lab_command(tmp_path / "c")]


def test_lab_without_jupyterlab_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec",
                        lambda name: None if name == "jupyterlab" else real(name))
    assert cli.main(["lab", str(tmp_path)]) == 1
    assert "pip install 'jupyterlab" in capsys.readouterr().err


@pytest.mark.parametrize(("status", "code"), [("ok", 0), ("warn", 0), ("fail", 1)])
def test_doctor_exits_1_only_when_a_lesson_would_fail(monkeypatch, capsys, status, code):
    result = CheckResult("device cpu", status, "found", "" if status == "ok" else "do this")
    monkeypatch.setattr(cli, "run_checks", lambda quick: DoctorReport([result]))
    assert cli.main(["doctor", "--quick"]) == code
    assert capsys.readouterr().out.splitlines()[0] == result.line()


def test_a_course_without_lessons_is_an_error_that_says_why(tmp_path, monkeypatch):
    import rltutor.course as course_module

    monkeypatch.setattr(course_module, "_PACKAGED", tmp_path / "site" / "rltutor" / "_course")
    with pytest.raises(FileNotFoundError, match="reinstall rltutor"):
        course_root()


@pytest.mark.parametrize("command", ["lessons", "lab"])
def test_a_file_given_as_the_folder_is_refused_clearly(tmp_path, capsys, command):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    assert cli.main([command, str(afile)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err
    assert afile.read_text() == "mine"
