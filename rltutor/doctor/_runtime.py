"""Checks that run something: matplotlib draws, one policy step per device, the
gymnasium environments the lessons make, Chromium for the browser tests.

``judge_*`` functions are pure; ``check_*`` functions gather the facts and call them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence

from rltutor.doctor._packages import pinned_install, short_error
from rltutor.doctor._result import CheckResult

__all__ = ["CHROMIUM_PATHS", "LESSON_ENVS", "check_chromium", "check_devices", "check_gym_envs",
           "check_matplotlib", "judge_devices", "judge_gym_envs", "judge_matplotlib",
           "make_gym_env", "render_agg", "run_policy_step"]

# every gymnasium id a lesson makes (tests/test_doctor.py reads the lessons to keep this true)
LESSON_ENVS = ("CartPole-v1", "Pendulum-v1")
CHROMIUM_PATHS = ("/usr/bin/chromium", "chromium", "chromium-browser")


def render_agg() -> None:
    """Draw a tiny figure on matplotlib's Agg canvas, as every rltutor picture does.

    >>> render_agg()
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [1, 0])
    FigureCanvasAgg(figure).draw()


def judge_matplotlib(*, backend: str | BaseException, agg_error: BaseException | None,
                     mplbackend_env: str | None) -> CheckResult:
    """rltutor draws on its own Agg canvas, so any backend will do, if one resolves.

    Args:
        backend: ``matplotlib.get_backend()``, or what asking for it raised.
        agg_error: what drawing on the Agg canvas raised, or None.
        mplbackend_env: the ``MPLBACKEND`` environment variable, if set.

    >>> judge_matplotlib(backend="agg", agg_error=None, mplbackend_env=None).status
    'ok'
    """
    name = "matplotlib"
    if isinstance(backend, BaseException):
        fix = ("unset MPLBACKEND" if mplbackend_env else
               pinned_install("matplotlib", options="--force-reinstall"))
        return CheckResult(name, "fail", f"no backend: {short_error(backend)}", fix)
    if agg_error is not None:
        return CheckResult(name, "fail", f"backend {backend}, but drawing a figure fails: "
                           f"{short_error(agg_error)}",
                           pinned_install("matplotlib", "pillow", options="--force-reinstall"))
    where = ("inline in a notebook" if "inline" in backend.lower()
             else "rltutor's pictures still show inline in notebooks")
    return CheckResult(name, "ok", f"backend {backend}; figures draw ({where})")


def check_matplotlib() -> list[CheckResult]:
    """matplotlib's backend resolves and a figure draws on the Agg canvas.

    >>> check_matplotlib()[0].name
    'matplotlib'
    """
    try:
        import matplotlib
        backend: str | BaseException = matplotlib.get_backend()
    except Exception as error:
        backend = error
    agg_error = None
    try:
        render_agg()
    except Exception as error:
        agg_error = error
    return [judge_matplotlib(backend=backend, agg_error=agg_error,
                             mplbackend_env=os.environ.get("MPLBACKEND"))]


def run_policy_step(device: str) -> str:
    """One step of a tiny TensorDictModule policy on ``device``; returns the action's device.

    Args:
        device: "cpu", "cuda" or "mps".

    >>> run_policy_step("cpu")
    'cpu'
    """
    import torch
    from tensordict import TensorDict
    from tensordict.nn import TensorDictModule

    with torch.random.fork_rng(devices=[]):  # leave the caller's RNG as it was
        policy = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["observation"],
                                  out_keys=["action"]).to(device)
    td = TensorDict({"observation": torch.zeros(1, 3, device=device)}, batch_size=[1],
                    device=device)
    return policy(td)["action"].device.type


def judge_devices(*, cuda: bool, mps: bool, step: Callable[[str], str],
                  torch_cuda_build: str | None, gpu_present: bool) -> list[CheckResult]:
    """A line per device: CPU always, CUDA and MPS when torch sees them.

    Args:
        cuda: ``torch.cuda.is_available()``.
        mps: ``torch.backends.mps.is_available()``.
        step: runs one policy step on a device, returns where the action landed.
        torch_cuda_build: ``torch.version.cuda`` (None for a CPU-only torch).
        gpu_present: an NVIDIA driver answers (``nvidia-smi``).

    >>> [r.status for r in judge_devices(cuda=False, mps=False, step=lambda d: d,
    ...                                  torch_cuda_build=None, gpu_present=False)]
    ['ok', 'skip', 'skip']
    """
    results = []
    for device, seen in (("cpu", True), ("cuda", cuda), ("mps", mps)):
        name = f"device {device}"
        if not seen:
            if device == "cuda" and gpu_present and torch_cuda_build is None:
                results.append(CheckResult(name, "warn", "an NVIDIA GPU is here, but this "
                               "torch is a CPU-only build: lesson 08 runs on the CPU",
                               "install a CUDA build of the pinned torch (pytorch.org's "
                               "install selector)"))
            elif device == "cuda":
                results.append(CheckResult(name, "skip", "no CUDA device: lesson 08 shows "
                                           "the CPU path"))
            else:
                results.append(CheckResult(name, "skip", "no Apple GPU (MPS)"))
            continue
        try:
            landed = step(device)
        except Exception as error:
            fix = (pinned_install("torch", options="--force-reinstall") if device == "cpu"
                   else f"update the {device} driver, or hide it "
                   f"({'CUDA_VISIBLE_DEVICES=' if device == 'cuda' else 'PYTORCH_MPS=0'})")
            results.append(CheckResult(name, "fail", f"one policy step fails: "
                                       f"{short_error(error)}", fix))
            continue
        if landed != device:
            results.append(CheckResult(name, "fail", f"the action landed on {landed}",
                                       pinned_install("torch", "tensordict",
                                                      options="--force-reinstall")))
        else:
            results.append(CheckResult(name, "ok", "one TensorDictModule policy step"))
    return results


def check_devices() -> list[CheckResult]:
    """One policy step on the CPU, and on CUDA and MPS where torch sees them.

    >>> [r.name for r in check_devices()]
    ['device cpu', 'device cuda', 'device mps']
    """
    import torch

    mps = getattr(torch.backends, "mps", None)
    return judge_devices(cuda=torch.cuda.is_available(),
                         mps=bool(mps and mps.is_available()), step=run_policy_step,
                         torch_cuda_build=torch.version.cuda,
                         gpu_present=_nvidia_gpu_present())


def _nvidia_gpu_present() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and b"GPU" in done.stdout


def make_gym_env(env_id: str) -> None:
    """Make gymnasium environment ``env_id``, reset it with a seed, and close it.

    Args:
        env_id: a registered id, such as ``"CartPole-v1"``.

    >>> make_gym_env("CartPole-v1")
    """
    import gymnasium

    env = gymnasium.make(env_id)
    try:
        env.reset(seed=0)
    finally:
        env.close()


def judge_gym_envs(*, env_ids: Sequence[str], make: Callable[[str], None]) -> list[CheckResult]:
    """A line per environment the lessons use: does it make and reset?

    Args:
        env_ids: the gymnasium ids.
        make: makes and resets one environment (raises when it cannot).

    >>> judge_gym_envs(env_ids=["CartPole-v1"], make=lambda e: None)[0].line()
    '✓ gymnasium CartPole-v1: makes and resets'
    """
    results = []
    for env_id in env_ids:
        try:
            make(env_id)
        except Exception as error:
            results.append(CheckResult(f"gymnasium {env_id}", "fail", short_error(error),
                                       pinned_install("gymnasium[classic-control]")))
        else:
            results.append(CheckResult(f"gymnasium {env_id}", "ok", "makes and resets"))
    return results


def check_gym_envs() -> list[CheckResult]:
    """The gymnasium environments of :data:`LESSON_ENVS`.

    >>> [r.name for r in check_gym_envs()]
    ['gymnasium CartPole-v1', 'gymnasium Pendulum-v1']
    """
    return judge_gym_envs(env_ids=LESSON_ENVS, make=make_gym_env)


def check_chromium(*, candidates: Sequence[str] = CHROMIUM_PATHS) -> list[CheckResult]:
    """Chromium, needed only by the browser and site tests: present or skipped, never failed.

    Args:
        candidates: paths or command names to look for.

    >>> check_chromium(candidates=["no-such-browser-here"])[0].status
    'skip'
    """
    found = next((shutil.which(c) for c in candidates if shutil.which(c)), None)
    if found:
        return [CheckResult("chromium (optional)", "ok", f"{found}: browser tests can run")]
    return [CheckResult("chromium (optional)", "skip", "not found; only the browser and "
                        "site tests need it (apt-get install chromium)")]
