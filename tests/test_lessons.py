"""The lesson pair checker (tools/lesson_pairs.py) and the real lessons/ folder."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from tools.build_site import GRID_DIR_ENV, GRIDS, kept_run_is_current, newest_change
from tools.keep_nbmake_runs import KEPT as NBMAKE_RUNS
from tools.lesson_pairs import check_pairs, lesson_files, main, strip_outputs

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
# `make site` renders the second run kept here instead of executing every lesson again
EXECUTED = LESSONS.parent / "build" / "executed"

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


def test_lesson_code_cells_stay_short() -> None:
    # A cell shows one TorchRL idea; longer plumbing belongs in rltutor.
    long_cells = []
    for py in lesson_files(LESSONS):
        for number, cell in enumerate(jupytext.read(py).cells, start=1):
            lines = len(cell.source.splitlines())
            if cell.cell_type == "code" and lines > 15:
                long_cells.append(f"{py.name} cell {number}: {lines} lines")
    assert long_cells == []


# -- every printed output reproducible: "Restart and run all" twice gives the same text --

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _run(py: Path, keep: bool = False) -> nbformat.NotebookNode:
    """One fresh-kernel run of the lesson's notebook (kept in build/executed/ for the site)."""
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    # the kept run (what `make site` reuses) also draws each panel's grid for the site, so
    # this check proves the grids leave what a lesson prints unchanged
    grids = {"env": {**os.environ, GRID_DIR_ENV: str(GRIDS.resolve())}} if keep else {}
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(LESSONS)}}).execute(**grids)
    if keep:
        EXECUTED.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, EXECUTED / py.with_suffix(".ipynb").name)
    return nb


def _first_run(py: Path) -> nbformat.NotebookNode:
    """nbmake's run of this lesson when `make lessons` kept a current one, else a new run.

    So `make test` executes each lesson twice, not three times: nbmake's run is the first
    of the two this check compares.
    """
    kept = NBMAKE_RUNS / py.with_suffix(".ipynb").name
    if kept_run_is_current(kept=kept, source=py.with_suffix(".ipynb"),
                           newest_change=newest_change(LESSONS.parent / "rltutor")):
        return nbformat.read(kept, as_version=4)
    return _run(py)


# A code cell tagged `varies` (jupytext: `# %% tags=["varies"]`) prints what no seed can fix,
# such as measured times; its text is left out of the comparison. A lesson has at most
# MAX_VARIES of them, so the check keeps comparing nearly everything a learner reads.
VARIES, MAX_VARIES = "varies", 2


def _varies(cell: nbformat.NotebookNode) -> bool:
    return VARIES in cell.get("metadata", {}).get("tags", [])


def _printed(nb: nbformat.NotebookNode) -> list[str]:
    """The text a learner reads, one string per code cell, of an executed notebook.

    Streams are joined per cell: the kernel may deliver one cell's prints in one message
    or in several, depending on timing, and that is not a difference a learner sees.
    A cell tagged ``varies`` counts as printing ``VARIES`` whatever it printed.
    """
    printed = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if _varies(cell):
            printed.append(VARIES)
            continue
        streams = {"stdout": "", "stderr": ""}
        shown = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                streams[output.name] += output.text
            elif output.output_type == "error":
                shown.append(f"{output.ename}: {output.evalue}")
            elif "application/vnd.jupyter.widget-view+json" not in output.get("data", {}):
                # widget reprs carry fresh model ids; their pictures are checked elsewhere
                data = output.get("data", {})
                shown.append(data.get("text/html") or data.get("text/plain", ""))
        text = "\n".join([streams["stdout"], streams["stderr"], *shown])
        printed.append(_ADDRESS.sub(" at 0x…", text))
    return printed


@pytest.mark.parametrize("py", lesson_files(LESSONS), ids=lambda p: p.stem[:2])
def test_lesson_prints_the_same_on_a_second_run(py: Path) -> None:
    first, second = _printed(_first_run(py)), _printed(_run(py, keep=True))
    assert sum(bool(text.strip()) for text in first) > 3, "the lesson printed almost nothing"
    differing = [(i, a, b) for i, (a, b) in enumerate(zip(first, second, strict=True), 1)
                 if a != b]
    if differing:
        cell, a, b = differing[0]
        pytest.fail(f"{py.name}, code cell {cell} printed differently on a second run:\n"
                    f"{a[:800]}\n--- second run ---\n{b[:800]}")


def test_a_varies_cell_is_left_out_of_the_comparison_and_nothing_else() -> None:
    cells = [nbformat.v4.new_code_cell("print(time.time())", metadata={"tags": [VARIES]}),
             nbformat.v4.new_code_cell("print(1)")]
    first, second = nbformat.v4.new_notebook(cells=cells), nbformat.v4.new_notebook(
        cells=[nbformat.from_dict(c) for c in cells])
    for nb, clock in ((first, "1.5"), (second, "2.5")):
        for cell, text in zip(nb.cells, (clock, "1\n"), strict=True):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    assert _printed(first) == _printed(second) == [VARIES, "1\n\n"]
    second.cells[1].outputs[0].text = "2\n"  # an untagged cell still counts
    assert _printed(first) != _printed(second)


def test_varies_cells_are_written_in_jupytext_percent_cells() -> None:
    nb = jupytext.reads('# %% tags=["varies"]\nprint(1)\n\n# %%\nprint(2)\n', fmt="py:percent")
    assert [_varies(cell) for cell in nb.cells] == [True, False]


@pytest.mark.parametrize("path", lesson_files(LESSONS), ids=lambda p: p.stem[:2])
def test_at_most_two_cells_per_lesson_are_left_out_of_the_comparison(path: Path) -> None:
    varies = [number for number, cell in enumerate(jupytext.read(path).cells, start=1)
              if cell.cell_type == "code" and _varies(cell)]
    assert len(varies) <= MAX_VARIES, (
        f"{path.name}: cells {varies} are tagged {VARIES!r}; at most {MAX_VARIES} per lesson "
        "may print what differs between runs (seed the rest)")


# A heading written as a comment in a code cell is missing from JupyterLab's and the
# site's table of contents, and reads as code: headings go in markdown cells.
HEADING = re.compile(r"^#\s*#{1,6}\s+\S")


@pytest.mark.parametrize("path", lesson_files(LESSONS), ids=lambda p: p.stem[:2])
def test_no_heading_hides_in_a_code_cell(path: Path) -> None:
    nb = jupytext.read(path)
    hidden = [line for cell in nb.cells if cell.cell_type == "code"
              for line in cell.source.splitlines() if HEADING.match(line)]
    assert not hidden, f"{path.name}: move these headings into a markdown cell: {hidden}"
