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


def _fresh(code: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _heavy_modules() -> list[str]:
    code = (
        "import sys, rltutor; rltutor.to_text; "
        "print(','.join(m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def run(repeat: int = 5) -> list[dict]:
    base = _fresh(SNIPPETS["torchrl"], repeat)
    rows = [row("import torchrl (fresh process)", base * 1e3)]
    for name in ("rltutor", "rltutor + display"):
        value = _fresh(SNIPPETS[name], repeat)
        rows.append(
            row(f"import {name} (fresh process)", value * 1e3, base * 1e3,
                target="< 1.10x torchrl", baseline_name="(torchrl)")
        )
    heavy = _heavy_modules()
    print(f"heavy modules loaded by `import rltutor` + display: {heavy or 'none'}")
    return rows


if __name__ == "__main__":
    print(format_table(run()))
