"""A pytest plugin: the Jupyter kernels this test process starts are forked from a zygote.

``make lessons`` and ``make unit`` load it (``-p tools.fork_kernels``). In
each process that runs tests (each xdist worker, or the only process without xdist) it
starts ``tools/kernel_zygote.py serve`` (two: see ``pytest_configure``) and, before each
test, puts a ``python3`` kernelspec first on ``JUPYTER_PATH`` whose command is a zygote's
client. nbmake, nbclient and JupyterLab then start kernels as usual and get forked ones,
which skip about 3.5 CPU-seconds of imports each. Why that is safe, and how a kernel stays
fresh, is in ``tools/kernel_zygote.py``. Without the plugin (``pytest --nbmake lessons/``
as an instructor runs it) every kernel starts the usual way.

It also has nbclient end each kernel at once (``shutdown_kernel="immediate"``) once its
notebook has run, instead of asking it to shut down. Every output is in by then, and the
polite way costs 5 s in every lesson with a replay buffer: TorchRL's storages create a
``multiprocessing.Value``, whose lock starts multiprocessing's resource tracker, a child
process in the kernel's process group; at a shutdown request ipykernel sends its
children SIGTERM and waits (0.01 s, then 0.03, ... 3 s) for them to go, the tracker
ignores SIGTERM, and the kernel manager kills the kernel after its 5 s wait. Killed, the
kernel closes the tracker's pipe, and the tracker ends. (Six lessons, two runs each.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ZYGOTE = Path(__file__).resolve().with_name("kernel_zygote.py")


def kernelspec(*, folder: Path, socket_path: str) -> Path:
    """Write a ``python3`` kernelspec under ``folder/kernels`` that asks the zygote first.

    Args:
        folder: a folder to put first on ``JUPYTER_PATH``.
        socket_path: the zygote's Unix socket.

    >>> import tempfile
    >>> spec = kernelspec(folder=Path(tempfile.mkdtemp()), socket_path="/tmp/z.sock")
    >>> json.loads(spec.read_text())["argv"][2:]
    ['client', '/tmp/z.sock', '{connection_file}']
    """
    spec = folder / "kernels" / "python3" / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({
        "argv": [sys.executable, str(ZYGOTE), "client", socket_path, "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python",
        "interrupt_mode": "signal", "metadata": {"debugger": True}}))
    return spec


def _runs_tests(config: pytest.Config) -> bool:
    """An xdist worker, or a process with no workers: not the controller that has them."""
    if hasattr(config, "workerinput"):
        return True
    return not getattr(config.option, "numprocesses", None)


def _start(config: pytest.Config, name: str) -> None:
    """Start the zygote ``name`` and write its kernelspec (``config._rltutor_zygotes``)."""
    folder = Path(tempfile.mkdtemp(prefix=f"rltutor-kernels-{name}-"))
    socket_path = str(folder / "zygote.sock")
    # The zygote's own output (a traceback if it fails) goes to this process's stderr.
    process = subprocess.Popen([sys.executable, str(ZYGOTE), "serve", socket_path])
    kernelspec(folder=folder, socket_path=socket_path)
    config._rltutor_zygotes[name] = (process, folder)


def end_kernels_at_once() -> None:
    """Make ``shutdown_kernel="immediate"`` nbclient's default in this process.

    nbmake builds its ``NotebookClient`` without the option, so the class default is
    the one place to set it; a client that names the option keeps its own.

    >>> import nbformat
    >>> from nbclient import NotebookClient
    >>> end_kernels_at_once()
    >>> NotebookClient(nbformat.v4.new_notebook()).shutdown_kernel
    'immediate'
    """
    from nbclient import NotebookClient

    NotebookClient.class_traits()["shutdown_kernel"].default_value = "immediate"


def pytest_configure(config: pytest.Config) -> None:
    """Start a zygote for nbmake's runs and one for every other kernel.

    Two, because the kernels forked from one zygote share its string hash seed, and the
    same-output check compares nbmake's run of a lesson with a second run: from two
    zygotes, a lesson that prints a set in hash order still differs between them.
    """
    end_kernels_at_once()
    config._rltutor_zygotes = {}
    config._rltutor_jupyter_path = os.environ.get("JUPYTER_PATH", "")
    if not _runs_tests(config):
        return
    lessons_only = getattr(config.option, "nbmake", False) and all(
        str(arg).endswith(".ipynb") or Path(str(arg)).name == "lessons" for arg in config.args)
    if getattr(config.option, "nbmake", False):
        _start(config, "nbmake")
    if not lessons_only:
        _start(config, "other")


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures start a kernel (or JupyterLab)
def pytest_runtest_setup(item: pytest.Item) -> None:
    zygotes = item.config._rltutor_zygotes
    name = "nbmake" if getattr(item, "nbmake", False) else "other"
    if name in zygotes:
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(zygotes[name][1]), item.config._rltutor_jupyter_path) if p)


def pytest_unconfigure(config: pytest.Config) -> None:
    for zygote, folder in getattr(config, "_rltutor_zygotes", {}).values():
        zygote.terminate()
        try:
            zygote.wait(timeout=10)
        except subprocess.TimeoutExpired:
            zygote.kill()
        shutil.rmtree(folder, ignore_errors=True)
