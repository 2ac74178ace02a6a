"""Running TorchRL's distributed collector on one machine, with nothing left behind.

Lesson 08 starts :class:`torchrl.collectors.distributed.DistributedCollector` with
``launcher="mp"``: worker processes on this machine that talk to the notebook over
``torch.distributed`` (gloo, over TCP on ``localhost``). This module holds what that needs
around it and nothing of the collector itself, so the TorchRL call stays in the lesson:

- :func:`make_pendulum`: an env factory that can be *imported* by a worker (a function
  defined in a notebook cannot be pickled by reference into a fresh process), and that
  stamps every frame with the id of the process that stepped it;
- :func:`free_port`: a TCP port the operating system says is free, so that two notebooks
  (or two lessons under ``pytest -n 2``) never fight over a fixed port;
- :func:`shut_down_on_exit`: a context manager that leaves no worker process, no process
  group and no listening store behind, whether the block ends normally or fails half-way;
- :func:`frames_per_second` and :func:`plot_frames_per_second`: the scaling picture.

    >>> from rltutor.addons.distributed import free_port
    >>> 1024 < free_port() < 65535
    True
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from tensordict import TensorDictBase
from torchrl.data import Unbounded
from torchrl.envs import EnvBase, GymEnv, Transform, TransformedEnv

from rltutor.policies import make_actor

__all__ = [
    "PID_KEY",
    "StampPid",
    "make_pendulum",
    "free_port",
    "shut_down_on_exit",
    "Cleanup",
    "frames_per_second",
    "plot_frames_per_second",
]

PID_KEY = "worker_pid"


class StampPid(Transform):
    """Writes ``os.getpid()`` of the process that steps the environment into each frame.

    The entry is an observation (``worker_pid``, int64, one per batch element) that no
    policy reads: it is there so that a batch can tell which process collected it.

    >>> env = TransformedEnv(GymEnv("Pendulum-v1"), StampPid())
    >>> int(env.reset()["worker_pid"]) == os.getpid()
    True
    """

    def __init__(self) -> None:
        super().__init__(in_keys=[], out_keys=[PID_KEY])

    def _stamp(self, td: TensorDictBase) -> TensorDictBase:
        pid = torch.full(td.batch_size, os.getpid(), dtype=torch.int64, device=td.device)
        return td.set(PID_KEY, pid)

    def _call(self, next_tensordict: TensorDictBase) -> TensorDictBase:
        return self._stamp(next_tensordict)

    def _reset(self, tensordict: TensorDictBase,
               tensordict_reset: TensorDictBase) -> TensorDictBase:
        return self._stamp(tensordict_reset)

    def transform_observation_spec(self, observation_spec):
        observation_spec[PID_KEY] = Unbounded(shape=observation_spec.shape, dtype=torch.int64,
                                              device=observation_spec.device)
        return observation_spec


def make_pendulum(seed: int = 0) -> EnvBase:
    """A seeded Pendulum whose frames carry the id of the process that stepped them.

    Importable (``from rltutor.addons.distributed import make_pendulum``), so a worker started
    with "spawn" or "forkserver" can unpickle it; ``functools.partial(make_pendulum,
    seed=i)`` gives each worker its own seed.

    Args:
        seed: seed of the environment.

    >>> env = make_pendulum(seed=1)
    >>> int(env.reset()[PID_KEY]) == os.getpid()
    True
    """
    env = TransformedEnv(GymEnv("Pendulum-v1"), StampPid())
    env.set_seed(seed)
    return env


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def free_port(*, tries: int = 50) -> int:
    """A TCP port that is free now, and whose next port is free too.

    ``DistributedCollector`` listens on ``tcp_port`` for the process group and tries
    ``tcp_port + 1`` first for its key-value store, so both should be free. The operating
    system picks the port (bind to port 0), so two notebooks asking at once get
    different ones.

    Args:
        tries: how many ports to try before giving up.

    >>> port = free_port()
    >>> _port_is_free(port) and _port_is_free(port + 1)
    True
    """
    for _ in range(tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        if port < 65535 and _port_is_free(port + 1):
            return port
    raise RuntimeError(f"no free pair of TCP ports found in {tries} tries")


class Cleanup:
    """The collectors a :func:`shut_down_on_exit` block started, and its child processes.

    ``track(collector)`` hands the collector back, so the TorchRL call stays in view::

        with shut_down_on_exit() as cleanup:
            collector = cleanup.track(DistributedCollector(...))
    """

    def __init__(self) -> None:
        self.collectors: list[Any] = []
        self.ended: list[int] = []  # pids of processes it had to end by force
        self._before = {p.pid for p in multiprocessing.active_children()}

    def track(self, collector: Any) -> Any:
        """Shut ``collector`` down when the block ends; returns it unchanged.

        Args:
            collector: a TorchRL collector (anything with ``shutdown()``).
        """
        if not callable(getattr(collector, "shutdown", None)):
            raise TypeError(f"track() takes a collector with a shutdown() method, "
                            f"got {type(collector).__name__}")
        self.collectors.append(collector)
        return collector

    def alive(self) -> list[int]:
        """Process ids of the processes started in the block that still run (sorted).

        >>> with shut_down_on_exit() as cleanup:
        ...     pass
        >>> cleanup.alive()
        []
        """
        return sorted(p.pid for p in multiprocessing.active_children()
                      if p.pid not in self._before)

    def _new_children(self) -> list[multiprocessing.process.BaseProcess]:
        return [p for p in multiprocessing.active_children() if p.pid not in self._before]

    def close(self, *, timeout: float) -> list[str]:
        """Shut every tracked collector down, end what still runs; return what went wrong."""
        problems = []
        for collector in self.collectors:
            _stop_weight_receivers(collector)
            error = _call_with_timeout(collector.shutdown, timeout)
            if error is not None:
                problems.append(f"{type(collector).__name__}.shutdown(): {error}")
        for process in self._new_children():
            process.terminate()
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(2)
            self.ended.append(process.pid)
            problems.append(f"worker process {process.pid} had to be ended")
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
            problems.append("the process group was still open")
        return problems


def _stop_weight_receivers(collector: Any) -> None:
    # At torchrl 0.14.1 each worker's weight-receiver thread waits for an instruction and
    # shutdown() gives it 5 s before moving on; "stop" is an instruction that thread
    # knows, so sending it first makes shutdown take milliseconds instead.
    schemes = getattr(collector, "_weight_sync_schemes", None) or {}
    for scheme in schemes.values():
        send = getattr(scheme, "_send_instruction", None)
        if send is not None and getattr(scheme, "_store", None) is not None:
            try:
                send("stop")
            except Exception:  # a worker already gone: shutdown() will say so
                pass


def _call_with_timeout(fn: Any, timeout: float) -> str | None:
    """Run ``fn()`` in a thread; the error line, "timed out", or None when it returned."""
    outcome: list[str | None] = []

    def target() -> None:
        try:
            fn()
            outcome.append(None)
        except Exception as error:  # reported by the caller, never as a thread traceback
            outcome.append(f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
                           if str(error).strip() else type(error).__name__)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f"did not return within {timeout:g} s"


def _watch_workers(cleanup: Cleanup, stop: threading.Event) -> None:
    # A worker that dies before it connects (typically: it cannot unpickle a factory
    # defined in the notebook) leaves the learner waiting inside DistributedCollector(...)
    # with no time limit at torchrl 0.14.1. Nothing can interrupt that wait from here, but
    # the learner should at least read why the cell does not finish.
    reported: set[int] = set()
    while not stop.wait(0.5):
        for process in list(multiprocessing.process._children):  # noqa: SLF001
            code = process.exitcode
            if process.pid in cleanup._before or process.pid in reported or not code:
                continue
            if stop.is_set():
                return
            reported.add(process.pid)
            print(f"shut_down_on_exit: worker process {process.pid} died (exit code {code}) "
                  "while the learner waits for it. A factory it could not unpickle (one "
                  "defined in the notebook?) is the usual cause; it never connects, so "
                  "restart the kernel, then pass importable factories.", file=sys.stderr,
                  flush=True)


@contextmanager
def shut_down_on_exit(*, timeout: float = 30.0) -> Iterator[Cleanup]:
    """Leave no worker process and no open process group behind, however the block ends.

    When the block ends, each collector passed to ``cleanup.track`` is shut down
    (``collector.shutdown()``); then any process started inside the block that still
    runs is ended, and a ``torch.distributed`` process group still open is destroyed, so
    the next ``DistributedCollector`` can start. If the block failed half-way (even
    while the collector was being built), its error propagates after that clean-up,
    with one line saying what had to be cleaned. If it ended normally but something
    was left over, that is an error too: ``RuntimeError`` naming it.

    Args:
        timeout: seconds each ``shutdown()`` may take before its workers are ended.

    >>> with shut_down_on_exit() as cleanup:
    ...     pass
    >>> cleanup.collectors
    []
    """
    cleanup = Cleanup()
    stop = threading.Event()
    threading.Thread(target=_watch_workers, args=(cleanup, stop), daemon=True).start()
    try:
        yield cleanup
    except BaseException:
        stop.set()
        problems = cleanup.close(timeout=min(timeout, 10.0))
        if problems:
            print(f"shut_down_on_exit: the block failed; cleaned up: {'; '.join(problems)}")
        raise
    stop.set()
    problems = cleanup.close(timeout=timeout)
    if problems:
        raise RuntimeError("the block ended, but not everything had stopped: "
                           + "; ".join(problems))


def frames_per_second(collector: Any, *, batches: int = 4) -> float:
    """Frames per second over ``batches`` batches, after one batch to warm up.

    The first batch is left out: it carries the workers' first steps (and, for a
    freshly started collector, the last of their start-up).

    Args:
        collector: a collector with at least ``batches + 1`` batches left to give.
        batches: how many batches to time.
    """
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    frames, start, seen = 0, 0.0, 0
    for seen, batch in enumerate(collector, start=1):
        if seen == 1:
            start = time.perf_counter()
            continue
        frames += batch.numel()
        if seen == batches + 1:
            return frames / (time.perf_counter() - start)
    raise ValueError(f"the collector gave {seen} batches; frames_per_second needs "
                     f"batches + 1 = {batches + 1} (raise total_frames)")


def plot_frames_per_second(rates: dict[int, float], *, title: str = "") -> Any:
    """Bars of frames per second against the number of workers, with perfect scaling dashed.

    Args:
        rates: frames per second, keyed by the number of workers.
        title: the figure's title (a default names the machine's core count).

    >>> fig = plot_frames_per_second({1: 900.0, 2: 1500.0})
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['1', '2']
    """
    # lazy: the fork server imports this module (worker_preload) and no worker draws
    from rltutor.plots import PALETTE, Picture

    if not rates:
        raise ValueError("rates is empty: pass {number of workers: frames per second}")
    workers = sorted(rates)
    fig = Picture(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.bar([str(n) for n in workers], [rates[n] for n in workers], color=PALETTE[0],
           label="measured")
    base = rates[workers[0]] / workers[0]
    ax.plot([str(n) for n in workers], [base * n for n in workers], "k--", lw=1,
            label=f"{workers[0]} worker's rate x workers")
    ax.set(xlabel="workers", ylabel="frames per second",
           title=title or f"Collection speed on this machine ({os.cpu_count()} CPU cores)")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_workers(*, learner_pid: int, worker_pids: list[int], frames_per_worker: int,
                 address: str) -> Any:
    """Who runs where: this process (the learner, rank 0) and one box per worker process.

    Args:
        learner_pid: the process id of the learner (``os.getpid()`` in the notebook).
        worker_pids: one process id per worker, in rank order.
        frames_per_worker: frames each worker sends per batch.
        address: where the learner listens, e.g. ``"localhost:41234"``.

    >>> fig = plot_workers(learner_pid=1, worker_pids=[2, 3], frames_per_worker=100,
    ...                    address="localhost:5000")
    >>> "pid 3" in " ".join(t.get_text() for t in fig.axes[0].texts)
    True
    """
    # lazy: the fork server imports this module (worker_preload) and no worker draws
    from rltutor.plots import PALETTE, Picture

    n = len(worker_pids)
    fig = Picture(figsize=(7, 1.2 + 0.7 * n), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set(xlim=(0, 10), ylim=(-0.5, n - 0.5))
    box = {"boxstyle": "round,pad=0.4", "fc": "#E6F1F8", "ec": PALETTE[0]}
    middle = (n - 1) / 2
    ax.text(1.6, middle, f"learner (rank 0)\nthis kernel, pid {learner_pid}\n{address}",
            ha="center", va="center", fontsize=9, bbox=box)
    for rank, pid in enumerate(worker_pids, start=1):
        y = n - rank
        ax.text(8.2, y, f"worker {rank} (rank {rank})\npid {pid}, own Pendulum",
                ha="center", va="center", fontsize=9, bbox={**box, "fc": "#f4f4f4"})
        ax.annotate("", xy=(3.3, middle), xytext=(6.6, y),
                    arrowprops={"arrowstyle": "->", "color": PALETTE[0]})
        ax.text(4.95, (middle + y) / 2 + 0.12, f"{frames_per_worker} frames / batch",
                ha="center", fontsize=8, color=PALETTE[0])
    ax.set_title("Who collects: one process per worker, batches sent to the learner",
                 fontsize=10)
    return fig


def make_pendulum_actor(seed: int = 0) -> Any:
    """A policy factory for the workers: ``rltutor.make_actor`` on a Pendulum, 32x32 MLP.

    Importable, so each worker can build its *own* copy. (A policy object handed to
    workers on this machine reaches them through shared memory, and would change with
    the learner's copy without any message sent; built in the worker, it changes only
    when new weights are pushed, as on a real cluster.)

    Args:
        seed: seed of the initial weights.

    >>> make_pendulum_actor().out_keys
    ['action']
    """
    return make_actor(make_pendulum(seed=seed), num_cells=(32, 32), seed=seed)
