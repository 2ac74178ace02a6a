"""Worker processes: the start methods lesson 08 uses, and whether a ``ParallelEnv``
really starts, steps and closes here (in a child interpreter, with a time limit, so a
hanging worker cannot hang the doctor).
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from rltutor.doctor._result import CheckResult

__all__ = ["ProbeRun", "check_parallel_env", "check_start_method", "judge_parallel_env",
           "judge_start_method", "lesson08_method", "platform_default", "start_parallel_env"]

PROBE_TIMEOUT_S = 120.0
_PROBE = """
import functools, sys
from torchrl.envs import GymEnv, ParallelEnv
env = ParallelEnv(2, functools.partial(GymEnv, "Pendulum-v1"), mp_start_method=sys.argv[1])
try:
    td = env.rollout(3)
finally:
    env.close()
print("batch", tuple(td.batch_size))
"""
_EXPECTED = "batch (2, 3)"
_WORKER_FIX = ("lesson 08 needs worker processes: check that /dev/shm is writable and large "
               "enough (Docker: --shm-size=1g), then run `rltutor doctor` again")


def platform_default(*, platform: str = sys.platform,
                     version: tuple[int, int] = sys.version_info[:2]) -> str:
    """The start method Python picks here when none is set.

    Args:
        platform: ``sys.platform``.
        version: Python's (major, minor).

    >>> platform_default(platform="linux", version=(3, 11)), platform_default(platform="darwin")
    ('fork', 'spawn')
    """
    if platform.startswith("linux"):
        return "fork" if version < (3, 14) else "forkserver"
    return "spawn"


def lesson08_method(*, cuda: bool) -> str:
    """The start method lesson 08 gives its ``ParallelEnv`` (CUDA cannot be forked).

    Args:
        cuda: whether torch sees a CUDA device.

    >>> lesson08_method(cuda=False), lesson08_method(cuda=True)
    ('fork', 'spawn')
    """
    return "spawn" if cuda else "fork"


def judge_start_method(*, current: str | None, offered: Sequence[str], default: str,
                       cuda: bool) -> CheckResult:
    """Does this platform offer the start methods lesson 08 asks for?

    Args:
        current: the start method set in this process, None when none was set.
        offered: ``multiprocessing.get_all_start_methods()``.
        default: what Python uses when none is set.
        cuda: whether torch sees a CUDA device.

    >>> judge_start_method(current=None, offered=["spawn"], default="spawn",
    ...                    cuda=False).status
    'fail'
    """
    needed = [lesson08_method(cuda=cuda), "forkserver"]
    missing = [m for m in needed if m not in offered]
    now = (f"not set, so {default}" if current is None
           else f"{current}, set in this process (importing torchrl sets spawn)")
    if missing:
        return CheckResult("start method", "fail",
                           f"{now}; lesson 08 starts workers with {' and '.join(needed)}, and "
                           f"this platform lacks {', '.join(missing)}",
                           "run the course on Linux or macOS (on Windows: in WSL)")
    return CheckResult("start method", "ok", f"{now}; offered: {', '.join(offered)} "
                       f"(lesson 08 uses {' and '.join(needed)})")


def check_start_method() -> list[CheckResult]:
    """This process's start method and the ones lesson 08 needs.

    >>> check_start_method()[0].name
    'start method'
    """
    import torch

    return [judge_start_method(current=multiprocessing.get_start_method(allow_none=True),
                               offered=multiprocessing.get_all_start_methods(),
                               default=platform_default(), cuda=torch.cuda.is_available())]


@dataclass(frozen=True)
class ProbeRun:
    """How the ``ParallelEnv`` probe went.

    Args:
        returncode: the child's exit status, None when it ran out of time.
        output: its stdout and stderr together.
        seconds: how long it ran.

    >>> ProbeRun(None, "", 120.0).returncode is None  # it ran out of time
    True
    """

    returncode: int | None
    output: str
    seconds: float


def start_parallel_env(method: str, *, timeout: float = PROBE_TIMEOUT_S) -> ProbeRun:
    """Start a 2-worker ``ParallelEnv`` with ``method`` in a child interpreter: step, close.

    Args:
        method: the start method for the workers.
        timeout: seconds before the child is stopped.
    """
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, method], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout or ""
        output = out if isinstance(out, str) else out.decode(errors="replace")
        return ProbeRun(None, output, time.perf_counter() - start)
    return ProbeRun(done.returncode, done.stdout + done.stderr, time.perf_counter() - start)


def judge_parallel_env(*, method: str, run: ProbeRun,
                       timeout: float = PROBE_TIMEOUT_S) -> CheckResult:
    """Did the probe's ``ParallelEnv`` start, step and close?

    Args:
        method: the start method it used.
        run: what happened.
        timeout: the time it was given.

    >>> judge_parallel_env(method="fork", run=ProbeRun(0, "batch (2, 3)", 3.0)).status
    'ok'
    >>> judge_parallel_env(method="fork", run=ProbeRun(None, "", 120.0)).detail
    'did not finish in 120 s with fork (a worker hung)'
    """
    name = "ParallelEnv"
    if run.returncode is None:
        return CheckResult(name, "fail", f"did not finish in {timeout:.0f} s with {method} "
                           "(a worker hung)", _WORKER_FIX)
    if run.returncode != 0 or _EXPECTED not in run.output:
        last = next((line for line in reversed(run.output.strip().splitlines())
                     if line.strip()), f"exit status {run.returncode}")
        return CheckResult(name, "fail", f"2 workers with {method} failed: {last[:160]}",
                           _WORKER_FIX)
    return CheckResult(name, "ok", f"2 workers started with {method}, stepped and closed "
                       f"in {run.seconds:.1f} s")


def check_parallel_env(*, quick: bool = False) -> list[CheckResult]:
    """Start a real ``ParallelEnv`` as lesson 08 does (skipped when ``quick``).

    Args:
        quick: skip it (it takes several seconds: a child interpreter imports torchrl).

    >>> check_parallel_env(quick=True)[0].status
    'skip'
    """
    if quick:
        return [CheckResult("ParallelEnv", "skip", "not started (--quick)")]
    import torch

    method = lesson08_method(cuda=torch.cuda.is_available())
    return [judge_parallel_env(method=method, run=start_parallel_env(method))]
