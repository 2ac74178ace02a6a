"""``make bench``: run every benchmark and print one table.

Each figure is a median over repeated runs, next to its baseline measured in the same
run, and the ratio. Set BENCH_ONLY=display,explorer (module suffixes) to run a subset.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import format_table  # noqa: E402

SUITES = ["display", "explorer", "import", "lessons", "training", "fast_paths", "distributed",
          "dqn_seeds", "ppo", "offpolicy", "silent_bugs"]


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    return (f"{os.cpu_count()} CPU cores ({cpu}), Python {platform.python_version()}, "
            f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}")


def main() -> int:
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
    rows = []
    for suite in only or SUITES:
        print(f"running bench_{suite} ...", file=sys.stderr, flush=True)
        rows += importlib.import_module(f"bench_{suite}").run()
    print(f"\nrltutor benchmarks on {machine()}\n")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
