"""A pytest plugin that keeps each notebook nbmake executes, so it is not executed again.

``make lessons`` runs ``pytest -p tools.keep_nbmake_runs --nbmake lessons/``. Every lesson
nbmake runs is written to ``build/executed/nbmake/NN_name.ipynb``; the same-output check
in ``tests/test_lessons.py`` then uses that run as its first run and executes the lesson
only once more (the second run is what ``make site`` renders). Without the plugin
``pytest --nbmake lessons/`` works as ever and keeps nothing.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

KEPT = Path(__file__).resolve().parents[1] / "build" / "executed" / "nbmake"


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
