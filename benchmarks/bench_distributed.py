"""Lesson 08's distributed collector: start-up, frames per second per worker count, memory.

Runs in a fresh Python, as the lesson's kernel does: the "forkserver" start method with
``rltutor.addons.worker_preload``, 100 frames per worker per batch, importable factories. The
baseline for frames per second is one plain ``Collector`` in the learner's own process.
Worker memory is each worker's own peak (VmHWM) just before shutdown, and the part of it
that is its own (most of a worker's pages are torch's, shared with the fork server it was
forked from); the kernel's own peak is in bench_lessons ("08: kernel peak RSS").
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from _table import row

SCRIPT = textwrap.dedent('''
    import json, multiprocessing, os, statistics, time
    from functools import partial

    from torchrl.collectors import Collector
    from torchrl.collectors.distributed import DistributedCollector

    from rltutor.addons.distributed import (free_port, frames_per_second, make_pendulum,
                                     make_pendulum_actor, shut_down_on_exit)


    def peak_mb(pid):
        with open(f"/proc/{pid}/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024


    def start(n, batches):
        return DistributedCollector(
            [partial(make_pendulum, seed=i) for i in range(n)],
            policy_factory=make_pendulum_actor, frames_per_batch=100 * n,
            total_frames=100 * n * batches, collector_class=Collector,
            collector_kwargs={"auto_register_policy_transforms": True},
            launcher="mp", backend="gloo", sync=True, tcp_port=free_port())


    def private_mb(pid):
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            fields = dict(line.split(":", 1) for line in rollup if ":" in line)
        return sum(int(fields[k].split()[0]) for k in ("Private_Clean", "Private_Dirty")) / 1024


    def timed_start(n):
        begin = time.perf_counter()
        with shut_down_on_exit() as cleanup:
            collector = cleanup.track(start(n, batches=2))
            next(iter(collector))
            worker_mb = [(peak_mb(job.pid), private_mb(job.pid)) for job in collector.jobs]
        return time.perf_counter() - begin, worker_mb


    if __name__ == "__main__":
        multiprocessing.set_start_method("forkserver", force=True)
        multiprocessing.set_forkserver_preload(["rltutor.addons.worker_preload"])
        out = {}
        out["cold"], _ = timed_start(2)
        warm = [timed_start(2) for _ in range(3)]
        out["warm"] = statistics.median(t for t, _ in warm)
        out["worker_mb"] = max(mb for _, mbs in warm for mb, _ in mbs)
        out["worker_private_mb"] = max(mb for _, mbs in warm for _, mb in mbs)
        local = Collector(make_pendulum(), make_pendulum_actor(), frames_per_batch=100,
                          total_frames=100 * 25, auto_register_policy_transforms=True)
        out["local"] = statistics.median(frames_per_second(local, batches=4) for _ in range(4))
        local.shutdown()
        for n in (1, 2, 3):
            rates = []
            for _ in range(3):
                with shut_down_on_exit() as cleanup:
                    rates.append(frames_per_second(cleanup.track(start(n, batches=5)),
                                                   batches=4))
            out[f"fps{n}"] = statistics.median(rates)
        print(json.dumps(out))
''')


def run() -> list[dict]:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"bench_distributed failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return [row("distributed: lesson 08's collector", None)]
    m = json.loads(lines[-1])
    rows = [
        row("distributed: start 2 workers + first batch + shutdown, cold fork server",
            m["cold"], unit="s"),
        row("distributed: start 2 workers + first batch + shutdown, warm fork server",
            m["warm"], unit="s"),
        row("distributed: worker peak RSS (VmHWM, largest worker)", m["worker_mb"], unit="MB"),
        row("distributed: worker private memory (not shared with the fork server)",
            m["worker_private_mb"], unit="MB"),
    ]
    for n in (1, 2, 3):
        rows.append(row(f"distributed: frames/s, {n} worker{'s' if n > 1 else ''}",
                        m[f"fps{n}"], m["local"], unit="frames/s",
                        baseline_name="(1 Collector in-process)"))
    return rows


if __name__ == "__main__":
    from _table import format_table

    print(format_table(run()))
