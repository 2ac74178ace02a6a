"""A pytest plugin that keeps each notebook nbmake executes, so it is not executed again.

``make lessons`` runs ``pytest -p tools.keep_nbmake_runs --nbmake lessons/``. Every lesson
nbmake runs is written to ``build/executed/nbmake/NN_name.ipynb``; the same-output check
in ``tests/test_lessons.py`` then uses that run as its first run and executes the lesson
only once more (the second run is what ``make site`` renders). The plugin also starts the
longest lessons first (``LONGEST_FIRST``). Without it ``pytest --nbmake lessons/`` works as
ever and keeps nothing.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

KEPT = Path(__file__).resolve().parents[1] / "build" / "executed" / "nbmake"


# The lessons that run longest (the training lessons), longest first: `make lessons` starts
# them first, so the two workers finish together instead of one running lesson 14 alone.
LONGEST_FIRST = ("14", "13", "11", "15", "12", "10", "08")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the notebooks nbmake runs in ``LONGEST_FIRST`` order, the others after them."""
    def rank(item: pytest.Item) -> int:
        number = Path(str(item.fspath)).name[:2]
        if getattr(item, "nbmake", False) and number in LONGEST_FIRST:
            return LONGEST_FIRST.index(number)
        return len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Wrap nbmake's run of one notebook to write its executed copy to ``KEPT``."""
    if not getattr(item, "nbmake", False):
        yield
        return
    from nbmake.nb_run import NotebookRun

    execute = NotebookRun.execute

    def execute_and_keep(run: NotebookRun):
        result = execute(run)
        if result.error is None:  # a failed run is not a first run of anything
            KEPT.mkdir(parents=True, exist_ok=True)
            partial = KEPT / f"{Path(run.filename).stem}.partial"
            nbformat.write(result.nb, partial)
            partial.replace(KEPT / Path(run.filename).name)
        return result

    NotebookRun.execute = execute_and_keep
    try:
        yield
    finally:
        NotebookRun.execute = execute
