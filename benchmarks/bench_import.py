"""``import rltutor`` against ``import torchrl``, each in fresh processes."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from _table import format_table, row

SNIPPETS = {
    "torchrl": "import torchrl",
    "torchrl + tensordict.nn": "import torchrl, tensordict.nn",
    "rltutor": "import rltutor",
    "rltutor + display": "import rltutor; rltutor.to_text",
}


def _time_once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def _fresh_interleaved(names: list[str], repeat: int) -> dict[str, float]:
    """Median time of each snippet, the snippets taking turns in every round.

    Taking turns matters on a shared machine: a slow minute then slows every snippet
    alike instead of whichever happened to run during it.
    """
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeat):
        for name in names:
            times[name].append(_time_once(SNIPPETS[name]))
    return {name: statistics.median(values) for name, values in times.items()}


def _heavy_modules() -> list[str]:
    code = (
        "import sys, rltutor; rltutor.to_text; "
        "print(','.join(m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def run(repeat: int = 7) -> list[dict]:
    medians = _fresh_interleaved(["torchrl", "rltutor", "rltutor + display"], repeat)
    base = medians["torchrl"]
    rows = [row("import torchrl (fresh process)", base * 1e3)]
    for name in ("rltutor", "rltutor + display"):
        rows.append(
            row(f"import {name} (fresh process)", medians[name] * 1e3, base * 1e3,
                target="< 1.10x torchrl", baseline_name="(torchrl)")
        )
    heavy = _heavy_modules()
    print(f"heavy modules loaded by `import rltutor` + display: {heavy or 'none'}")
    return rows


if __name__ == "__main__":
    print(format_table(run()))
