"""Benchmark rltutor.display against ``repr(td)`` measured in the same run.

Targets (issue 3): HTML of a 1000-step Pendulum rollout, value previews included, under
5 ms and under 100 KB; text under 2 ms. Run ``python benchmarks/bench_display.py``;
``run()`` returns the rows for a combined table.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from _table import format_table, row
from tensordict import TensorDict

REPEATS = 50


def _median_ms(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    fn()  # warm-up: first call loads the CSS and fills caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def make_rollout(steps: int = 1000) -> TensorDict:
    """A seeded Pendulum rollout of exactly ``steps`` steps (random actions)."""
    from torchrl.envs import GymEnv

    env = GymEnv("Pendulum-v1")
    env.set_seed(0)
    torch.manual_seed(0)
    td = env.rollout(steps, break_when_any_done=False)
    env.close()
    return td


def make_nested(leaves: int = 50) -> TensorDict:
    """Five nested TensorDicts of ten leaves each (floats, ints, bools), batch [64]."""
    torch.manual_seed(0)
    groups = {}
    for g in range(leaves // 10):
        group = {}
        for i in range(10):
            kind = i % 3
            if kind == 0:
                group[f"x{i}"] = torch.randn(64, 4)
            elif kind == 1:
                group[f"n{i}"] = torch.randint(0, 10, (64, 2))
            else:
                group[f"b{i}"] = torch.rand(64, 1) > 0.5
        groups[f"group{g}"] = TensorDict(group, batch_size=[64])
    return TensorDict(groups, batch_size=[64])


def _rows(label: str, td: TensorDict, rollout: bool) -> list[dict]:
    from rltutor.display import to_html, to_text

    repr_ms = _median_ms(lambda: repr(td))
    html_ms = _median_ms(lambda: to_html(td))
    text_ms = _median_ms(lambda: to_text(td))
    html_kb = len(to_html(td).encode()) / 1024
    repr_kb = len(repr(td).encode()) / 1024
    base = "(repr)"
    return [
        row(f"display: to_html, {label}", html_ms, repr_ms, "ms",
            "< 5 ms" if rollout else "", base),
        row(f"display: to_text, {label}", text_ms, repr_ms, "ms",
            "< 2 ms" if rollout else "", base),
        row(f"display: HTML size, {label}", html_kb, repr_kb, "KB",
            "< 100 KB" if rollout else "", base),
    ]


def _extra_rows(td: TensorDict) -> list[dict]:
    """Badges from a policy's dataflow (show(td, module=...)) and a spec tree."""
    from tensordict.nn import TensorDictModule
    from torch import nn
    from torchrl.data import Bounded, Composite, Unbounded

    from rltutor.display import to_html

    policy = TensorDictModule(nn.Linear(3, 1), ["observation"], [("agent", "action")])
    marked_ms = _median_ms(lambda: to_html(td, module=policy))
    spec = Composite(observation=Bounded(-8.0, 8.0, shape=(3,)), reward=Unbounded(shape=(1,)),
                     agent=Composite(action=Bounded(-2.0, 2.0, shape=(1,))))
    spec_ms = _median_ms(lambda: to_html(spec))
    return [
        row("display: to_html, rollout, module=policy", marked_ms, None, "ms", "< 5 ms", ""),
        row("display: to_html, Composite spec, 3 leaves", spec_ms, None, "ms", "", ""),
        _pixel_diff_row(),
    ]


def _pixel_diff_row() -> dict:
    """diff(before, policy(before.clone())) on a 400x600 RGB frame the policy leaves alone
    (issue 11: it built previews of the unchanged 720k values, ~72 ms). The baseline is the
    policy call itself, on a clone."""
    from tensordict.nn import TensorDictModule
    from torch import nn

    from rltutor.display import diff, to_text

    torch.manual_seed(0)
    before = TensorDict(pixels=torch.randint(0, 255, (400, 600, 3), dtype=torch.uint8),
                        observation=torch.randn(4), done=torch.zeros(1, dtype=torch.bool))
    policy = TensorDictModule(nn.Linear(4, 2), ["observation"], ["action"])
    after = policy(before.clone())
    diff_ms = _median_ms(lambda: to_text(diff(before, after)), repeats=20)
    call_ms = _median_ms(lambda: policy(before.clone()), repeats=20)
    return row("display: diff, 720k-value frame unchanged", diff_ms, call_ms, "ms", "< 5 ms",
               "(policy(td.clone()))")


def run() -> list[dict]:
    """Rows for the combined table (times are medians over repeats)."""
    rollout = make_rollout()
    return (_rows("1000-step rollout", rollout, True)
            + _extra_rows(rollout)
            + _rows("nested, 50 leaves", make_nested(), False))


if __name__ == "__main__":
    print(format_table(run()))
