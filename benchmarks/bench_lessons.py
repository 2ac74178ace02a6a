"""What CI and learners wait for: each lesson under nbmake against the same code as a script.

Also the whole suite as ``make test`` runs it (nbmake over pytest-xdist) and the peak
resident memory of each lesson's kernel.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
from _table import format_table, row
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
# a lesson that hangs (a worker that never connects) shows as "failed", not a stuck bench
TIMEOUT_S = 600
# lesson 11 ends with torch.export, which loads ~380 more torch modules (about 25 MB);
# lesson 12 holds GPT-2 from transformers beside torchrl: its issue grants it 700 MB
MEMORY_TARGET_MB = {"11": 550, "12": 700, "13": 600, "14": 600, "15": 600}  # training lessons: 600
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake"]


def _wall(cmd: list[str], repeat: int, **kwargs) -> float | None:
    """Median wall time of ``cmd``; None (shown as "failed") when it exits non-zero."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            done = subprocess.run(cmd, capture_output=True, cwd=ROOT, timeout=TIMEOUT_S,
                                  **kwargs)
        except subprocess.TimeoutExpired:
            print(f"timed out after {TIMEOUT_S} s: {' '.join(cmd)}", file=sys.stderr)
            return None
        if done.returncode != 0:
            print(f"failed: {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}", file=sys.stderr)
            return None
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def script_of(notebook: Path, folder: Path) -> Path:
    """The notebook's code as a plain Python script, written into ``folder``.

    A cell tagged ``raises-exception`` (a lesson showing a mistake fail) runs inside
    try/except, as nbmake lets it fail, so that both run the same code to the end.
    """
    parts = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        if "raises-exception" in cell.metadata.get("tags", []):
            body = textwrap.indent(cell.source, "    ")
            parts.append(f"try:\n{body}\nexcept Exception as error:\n    print(repr(error))")
        else:
            parts.append(cell.source)
    script = folder / f"{notebook.stem}.py"
    script.write_text("\n\n".join(parts) + "\n")
    return script


def kernel_peak_rss_mb(notebook: Path) -> float:
    """Run ``notebook`` in a fresh kernel and read that kernel's own peak RSS at the end.

    VmHWM, not ``getrusage``'s ru_maxrss: on Linux ru_maxrss survives fork and exec, so a
    kernel started from a big parent would report the parent's peak.
    """
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "print(next(line.split()[1] for line in open('/proc/self/status')\n"
        "           if line.startswith('VmHWM:')))"
    ))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return int(nb.cells[-1].outputs[0]["text"].strip()) / 1024  # VmHWM is in kB


def run(repeat: int | None = None) -> list[dict]:
    repeat = repeat or int(os.environ.get("BENCH_LESSON_REPEAT", "3"))
    notebooks = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    workers = os.environ.get("NBMAKE_WORKERS", "2")
    suite = _wall([*PYTEST, "-n", workers, "lessons/"], 1)
    rows = [row(f"lesson suite: pytest --nbmake -n {workers} lessons/ ({len(notebooks)} lessons)",
                suite, unit="s", target="< 60 s")]
    # the script runs where nbmake runs a notebook: in the lessons folder
    script_env = {**os.environ, "MPLBACKEND": "Agg"}
    scripts = Path(tempfile.mkdtemp(prefix="rltutor-bench-"))
    for nb in notebooks:
        nbmake = _wall([*PYTEST, str(nb.relative_to(ROOT))], repeat)
        # exec'd from -c, as a kernel runs cells: __main__ has no file, so worker processes
        # started by forkserver/spawn (lesson 08's distributed collector) do not re-run
        # the whole lesson as their __mp_main__
        path = str(script_of(nb, scripts))
        script_cmd = [sys.executable, "-c",
                      f"exec(compile(open({path!r}).read(), {path!r}, 'exec'))"]
        script = _wall(script_cmd, repeat, env=script_env)
        rows.append(row(f"{nb.stem}: nbmake vs plain script", nbmake, script, unit="s",
                        target="<= 1.5x", baseline_name="(script)"))
    for nb in notebooks:
        limit = MEMORY_TARGET_MB.get(nb.stem[:2], 500)
        rows.append(row(f"{nb.stem}: kernel peak RSS", kernel_peak_rss_mb(nb), unit="MB",
                        target=f"< {limit} MB"))
    return rows


if __name__ == "__main__":
    print(format_table(run()))
