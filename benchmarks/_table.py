"""Shared helpers for the benchmark scripts: timing with medians, and one table format.

Every benchmark module exposes ``run() -> list[dict]``; each row has ``name``, ``value``,
``baseline`` (measured in the same run, or ``None``), ``ratio`` (value / baseline, or
``None``), ``unit`` and optionally ``target`` (a short string such as "< 100 ms").
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(
    name: str,
    value: float | None,
    baseline: float | None = None,
    unit: str = "ms",
    target: str = "",
    baseline_name: str = "",
) -> dict:
    """One table row; ratio is value / baseline when both were measured.

    A value of None means the measurement failed; the table says so.
    """
    ratio = value / baseline if value is not None and baseline else None
    return {
        "name": name,
        "value": value,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": ratio,
        "unit": unit,
        "target": target,
    }


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned Markdown table (readable in a terminal and in the README)."""

    def num(x: float | None) -> str:
        if x is None:
            return "-"
        return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"

    header = ["benchmark", "value", "baseline (same run)", "ratio", "target"]
    body = [
        [
            r["name"],
            f"{num(r['value'])} {r['unit']}" if r["value"] is not None else "failed",
            f"{num(r['baseline'])} {r['unit']} {r.get('baseline_name', '')}".strip()
            if r["baseline"] is not None
            else "-",
            f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-",
            r.get("target", "") or "",
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(header), sep, *map(fmt, body)])
