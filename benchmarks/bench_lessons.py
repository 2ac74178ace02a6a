"""What CI and learners wait for: each lesson under nbmake against the same code as a script.

Also the whole suite as ``make test`` runs it (nbmake over pytest-xdist) and the peak
resident memory of each lesson's kernel.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from _table import format_table, row
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake"]


def _wall(cmd: list[str], repeat: int, **kwargs) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def kernel_peak_rss_mb(notebook: Path) -> float:
    """Run ``notebook`` in a fresh kernel and read that kernel's own peak RSS at the end."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import resource\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
    )
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return int(nb.cells[-1].outputs[0]["text"].strip()) / 1024  # ru_maxrss is in KiB


def run(repeat: int | None = None) -> list[dict]:
    repeat = repeat or int(os.environ.get("BENCH_LESSON_REPEAT", "3"))
    notebooks = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    workers = os.environ.get("NBMAKE_WORKERS", "2")
    suite = _wall([*PYTEST, "-n", workers, "lessons/"], 1)
    rows = [row(f"lesson suite: pytest --nbmake -n {workers} lessons/ ({len(notebooks)} lessons)",
                suite, unit="s", target="< 60 s")]
    script_env = {**os.environ, "MPLBACKEND": "Agg"}
    for nb in notebooks:
        nbmake = _wall([*PYTEST, str(nb.relative_to(ROOT))], repeat)
        script = _wall([sys.executable, str(nb.with_suffix(".py"))], repeat, env=script_env)
        rows.append(row(f"{nb.stem}: nbmake vs plain script", nbmake, script, unit="s",
                        target="<= 1.5x", baseline_name="(script)"))
    for nb in notebooks:
        rows.append(row(f"{nb.stem}: kernel peak RSS", kernel_peak_rss_mb(nb), unit="MB",
                        target="< 500 MB"))
    return rows


if __name__ == "__main__":
    print(format_table(run()))
