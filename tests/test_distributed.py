"""rltutor.addons.distributed: lesson 08's distributed collector leaves nothing behind.

The shutdown tests run a real ``DistributedCollector`` (2 worker processes, gloo over
TCP on localhost) in a fresh Python, as the lesson's kernel does, and look for leftovers
twice: from inside (``cleanup.alive()``, the worker pids, the process group) right after
each ``shut_down_on_exit`` block, and from outside once that Python has exited: every
process it started carries a token in its environment, and none may still run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import torch

from rltutor.addons.distributed import (
    PID_KEY,
    Cleanup,
    frames_per_second,
    free_port,
    make_pendulum,
    make_pendulum_actor,
    plot_frames_per_second,
    plot_workers,
    shut_down_on_exit,
)

SCRIPT = textwrap.dedent('''
    import json, multiprocessing, os, sys
    from functools import partial

    import torch
    from torchrl.collectors import Collector
    from torchrl.collectors.distributed import DistributedCollector

    from rltutor.addons.distributed import (make_pendulum, make_pendulum_actor, free_port,
                                     shut_down_on_exit)

    KERNEL = os.getpid()


    def fails_in_the_learner(seed=0):
        # the learner builds one env itself (a dummy batch) after the workers started
        if os.getpid() == KERNEL:
            raise ValueError("env factory failed in the learner")
        return make_pendulum(seed)


    def start(factories):
        return DistributedCollector(
            factories, policy_factory=make_pendulum_actor, frames_per_batch=40 * len(factories),
            total_frames=40 * len(factories) * 3, collector_class=Collector,
            collector_kwargs={"auto_register_policy_transforms": True},
            launcher="mp", backend="gloo", sync=True, tcp_port=free_port())


    def report(name, pids, cleanup, error=None):
        gone = [not os.path.exists(f"/proc/{pid}") for pid in pids]
        print(json.dumps({"scenario": name, "pids": pids, "alive": cleanup.alive(),
                          "ended": cleanup.ended,
                          "gone": gone, "group_open": torch.distributed.is_initialized(),
                          "error": error}), flush=True)


    def unpicklable_in_a_worker():
        # as a function defined in a notebook: its module exists only in the learner
        import types
        module = types.ModuleType("only_in_the_learner")
        exec("from rltutor.addons.distributed import make_pendulum_actor\\n"
             "def policy():\\n    return make_pendulum_actor()", module.__dict__)
        sys.modules[module.__name__] = module
        return module.policy


    def run(name):
        if name == "factory-only-in-the-learner":
            with shut_down_on_exit():
                DistributedCollector([make_pendulum], policy_factory=unpicklable_in_a_worker(),
                                     frames_per_batch=40, total_frames=40, launcher="mp",
                                     collector_class=Collector, tcp_port=free_port())
            return
        pids, cleanup = [], None
        try:
            with shut_down_on_exit(timeout=60) as cleanup:
                if name == "fails-while-starting":
                    factories = [fails_in_the_learner, partial(make_pendulum, seed=1)]
                    cleanup.track(start(factories))
                collector = cleanup.track(start([partial(make_pendulum, seed=i)
                                                 for i in range(2)]))
                pids = [job.pid for job in collector.jobs]
                for i, batch in enumerate(collector):
                    if name == "fails-half-way" and i == 1:
                        raise RuntimeError("the learner's loop failed")
        except Exception as error:
            report(name, pids or cleanup.ended, cleanup, f"{type(error).__name__}: {error}")
            return
        report(name, pids, cleanup)


    if __name__ == "__main__":
        multiprocessing.set_start_method("forkserver", force=True)
        multiprocessing.set_forkserver_preload(["rltutor.addons.worker_preload"])
        for name in sys.argv[1:]:
            run(name)
''')


def _left_behind(token: str) -> list[str]:
    """Processes whose environment carries ``token``: started by the run, still there."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if f"RLTUTOR_RUN_TOKEN={token}".encode() in environ:
            found.append(f"{entry.name}: {cmdline}")
    return found


def _start_run(tmp_path: Path, *scenarios: str) -> tuple[subprocess.Popen, str]:
    script = tmp_path / f"run_{uuid.uuid4().hex[:8]}.py"
    script.write_text(SCRIPT)
    token = uuid.uuid4().hex
    env = {**os.environ, "RLTUTOR_RUN_TOKEN": token, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([sys.executable, str(script), *scenarios], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, token


def _finish(process: subprocess.Popen, token: str) -> dict[str, dict]:
    try:
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-3000:]
    results = {}
    for line in out.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            results[result["scenario"]] = result
    assert _left_behind(token) == [], "processes left behind after the run ended"
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[dict[str, dict]]:
    # two Pythons at once, as two lessons under `pytest -n 2`: the first goes through
    # every scenario, the second starts its own collector meanwhile
    folder = tmp_path_factory.mktemp("distributed")
    started = [_start_run(folder, "normal", "fails-half-way", "fails-while-starting", "normal"),
               _start_run(folder, "normal")]
    return [_finish(process, token) for process, token in started]


@pytest.fixture(scope="module")
def scenarios(runs) -> dict[str, dict]:
    return runs[0]


def test_nothing_left_after_a_normal_end(scenarios):
    result = scenarios["normal"]
    assert result["error"] is None
    assert len(result["pids"]) == 2 and all(result["gone"])
    assert result["alive"] == [] and result["group_open"] is False


def test_nothing_left_after_the_loop_fails_half_way(scenarios):
    result = scenarios["fails-half-way"]
    assert result["error"] == "RuntimeError: the learner's loop failed"
    assert len(result["pids"]) == 2 and all(result["gone"])
    assert result["alive"] == [] and result["group_open"] is False


def test_nothing_left_when_building_the_collector_fails(scenarios):
    # the workers were already running and the process group open when the learner's
    # own env factory raised inside DistributedCollector(...)
    result = scenarios["fails-while-starting"]
    assert result["error"] == "ValueError: env factory failed in the learner"
    assert result["alive"] == [] and result["group_open"] is False
    assert len(result["ended"]) == 2 and all(result["gone"])


def test_a_new_collector_starts_after_a_failure(scenarios):
    # the last "normal" run came after two failures in the same process
    assert scenarios["normal"]["error"] is None


def test_a_worker_that_cannot_start_is_named_and_the_run_can_be_killed(tmp_path):
    # TorchRL 0.14.1 then waits for the worker forever: the learner is told why, and
    # killing the learner's process (restarting the kernel) leaves nothing behind
    process, token = _start_run(tmp_path, "factory-only-in-the-learner")
    lines, deadline = [], time.monotonic() + 240
    try:
        for line in process.stderr:
            lines.append(line)
            if "shut_down_on_exit: worker process" in line or time.monotonic() > deadline:
                break
    finally:
        process.kill()
        process.wait()
    assert any("died" in line and "restart the kernel" in line for line in lines), lines[-20:]
    for _ in range(40):  # the fork server notices its parent is gone
        if not _left_behind(token):
            break
        time.sleep(0.25)
    assert _left_behind(token) == []


def test_two_runs_at_once_do_not_clash(runs):
    for result in runs:
        assert result["normal"]["error"] is None and all(result["normal"]["gone"])


# ------------------------------------------------------------------ the small parts


def test_free_port_gives_a_free_pair():
    import socket

    port = free_port()
    for candidate in (port, port + 1):
        with socket.socket() as s:
            s.bind(("", candidate))  # raises if taken


def test_make_pendulum_stamps_the_process_id_and_is_seeded():
    rollout_td = make_pendulum(seed=3).rollout(5)
    assert (rollout_td["next", PID_KEY] == os.getpid()).all()
    assert (rollout_td[PID_KEY] == os.getpid()).all()
    assert torch.equal(make_pendulum(seed=3).reset()["observation"],
                       make_pendulum(seed=3).reset()["observation"])
    assert not torch.equal(make_pendulum(seed=4).reset()["observation"],
                           make_pendulum(seed=3).reset()["observation"])


def test_policy_factory_is_deterministic():
    a, b = make_pendulum_actor(seed=0), make_pendulum_actor(seed=0)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_track_refuses_what_cannot_be_shut_down():
    with pytest.raises(TypeError, match="shutdown"):
        Cleanup().track(make_pendulum)


def test_a_clean_block_leaves_no_group_and_no_child():
    with shut_down_on_exit() as cleanup:
        pass
    assert cleanup.alive() == [] and not torch.distributed.is_initialized()


def test_an_open_process_group_is_closed_and_reported_on_failure(capsys):
    with pytest.raises(KeyError), shut_down_on_exit():
        torch.distributed.init_process_group("gloo", rank=0, world_size=1,
                                             init_method=f"tcp://localhost:{free_port()}")
        raise KeyError("half-way")
    assert not torch.distributed.is_initialized()
    assert "process group" in capsys.readouterr().out


def test_a_normal_end_with_a_group_left_open_is_an_error():
    with pytest.raises(RuntimeError, match="process group"), shut_down_on_exit():
        torch.distributed.init_process_group("gloo", rank=0, world_size=1,
                                             init_method=f"tcp://localhost:{free_port()}")
    assert not torch.distributed.is_initialized()


def test_frames_per_second_needs_enough_batches():
    class TwoBatches:
        def __iter__(self):
            yield from (make_pendulum().rollout(3), make_pendulum().rollout(3))

    assert frames_per_second(TwoBatches(), batches=1) > 0
    with pytest.raises(ValueError, match="total_frames"):
        frames_per_second(TwoBatches(), batches=2)
    with pytest.raises(ValueError, match="at least 1"):
        frames_per_second(TwoBatches(), batches=0)


def test_plots_name_workers_and_pids():
    fig = plot_frames_per_second({1: 900.0, 2: 1500.0, 3: 1600.0})
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2", "3"]
    with pytest.raises(ValueError, match="empty"):
        plot_frames_per_second({})
    fig = plot_workers(learner_pid=10, worker_pids=[11, 12], frames_per_worker=100,
                       address="localhost:4000")
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "pid 10" in texts and "pid 11" in texts and "pid 12" in texts


def test_the_fork_servers_preload_loads_no_matplotlib():
    # workers never draw: the plot functions import rltutor.plots only when called
    code = ("import sys, rltutor.addons.worker_preload; "
            "print('matplotlib' in sys.modules, 'torchrl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "True"]
