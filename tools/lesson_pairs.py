"""Keep each lesson's two files in step: ``NN_name.py`` (edited) and ``NN_name.ipynb``.

A development tool (``make sync-check`` and ``make sync`` run it), not part of the
installed package. From the repository root::

    python -m tools.lesson_pairs check lessons   # exit 1, naming the lesson, if a pair drifted
    python -m tools.lesson_pairs strip lessons   # drop outputs and execution counts
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat


@dataclass(frozen=True)
class PairProblem:
    """One thing wrong with a lesson pair, phrased so a learner can act on it."""

    lesson: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.lesson}: {self.problem}\n    fix: {self.fix}"


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def lesson_files(folder: str | Path) -> list[Path]:
    """The lesson sources in ``folder``: files named like ``01_topic.py``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("01_first.py", "notes.py"):
    ...     _ = (folder / name).write_text("# %%\\nx = 1\\n")
    >>> [p.name for p in lesson_files(folder)]
    ['01_first.py']
    """
    return sorted(Path(folder).glob("[0-9][0-9]_*.py"))


def check_pairs(folder: str | Path) -> list[PairProblem]:
    """Every drift between the ``.py`` and ``.ipynb`` of each lesson, plus stray outputs.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "01_first.py").write_text("# %%\\nx = 1\\n")
    >>> print(*check_pairs(folder))
    01_first.py: has no paired 01_first.ipynb
        fix: run `make sync` (jupytext --sync), then commit both files
    >>> jupytext.write(jupytext.read(folder / "01_first.py"), folder / "01_first.ipynb")
    >>> check_pairs(folder)
    []
    """
    folder = Path(folder)
    problems: list[PairProblem] = []
    sync = "run `make sync` (jupytext --sync), then commit both files"
    sources = lesson_files(folder)
    for py in sources:
        ipynb = py.with_suffix(".ipynb")
        if not ipynb.exists():
            problems.append(PairProblem(py.name, f"has no paired {ipynb.name}", sync))
            continue
        from_py = jupytext.read(py)
        committed = nbformat.read(ipynb, as_version=4)
        if _cells(from_py) != _cells(committed):
            first = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(_cells(from_py), _cells(committed)))
                    if a != b
                ),
                min(len(from_py.cells), len(committed.cells)),
            )
            problems.append(
                PairProblem(
                    py.stem,
                    f"{py.name} and {ipynb.name} differ (first at cell {first + 1}); "
                    "the .py file was edited without syncing, or the notebook was saved "
                    "from JupyterLab without its pair",
                    sync,
                )
            )
        dirty = [
            i + 1
            for i, cell in enumerate(committed.cells)
            if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
        ]
        if dirty:
            problems.append(
                PairProblem(
                    py.stem,
                    f"{ipynb.name} carries outputs or execution counts in cells {dirty}",
                    "run `make sync` (it strips outputs), then commit",
                )
            )
    for ipynb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        if not ipynb.with_suffix(".py").exists():
            problems.append(
                PairProblem(ipynb.stem, f"{ipynb.name} has no paired .py", sync)
            )
    return problems


def strip_outputs(folder: str | Path) -> list[Path]:
    """Remove outputs and execution counts from every lesson notebook; return those changed."""
    changed = []
    for ipynb in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(ipynb, as_version=4)
        dirty = False
        for cell in nb.cells:
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
                cell.outputs, cell.execution_count, dirty = [], None, True
        if dirty:
            nbformat.write(nb, ipynb)
            changed.append(ipynb)
    return changed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in {"check", "strip"}:
        print("usage: python -m tools.lesson_pairs {check|strip} FOLDER", file=sys.stderr)
        return 2
    command, folder = args
    if command == "strip":
        for path in strip_outputs(folder):
            print(f"stripped outputs from {path}")
        return 0
    problems = check_pairs(folder)
    if not lesson_files(folder):
        print(f"no lessons found in {folder}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"lesson pair out of sync -- {problem}", file=sys.stderr)
    if not problems:
        print(f"{len(lesson_files(folder))} lesson pairs in sync, no outputs committed")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
