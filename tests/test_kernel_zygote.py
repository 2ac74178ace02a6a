"""Kernels forked from the zygote (tools/kernel_zygote.py) behave as fresh kernels do."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tools import kernel_zygote
from tools.fork_kernels import ZYGOTE, kernelspec

LESSONS = Path(__file__).resolve().parents[1] / "lessons"

PROBE = """\
import json, os, random, signal, sys
import numpy as np, torch, matplotlib, gymnasium, rltutor
print(json.dumps({"cwd": os.getcwd(), "argv0": sys.argv[0], "pid": os.getpid(),
                  "ppid": os.getppid(), "sigpipe": str(signal.getsignal(signal.SIGPIPE)),
                  "path0": sys.path[0], "asked": os.environ.get("RLTUTOR_PROBE"),
                  "pygame": os.environ.get("PYGAME_HIDE_SUPPORT_PROMPT"),
                  "backend": matplotlib.get_backend(), "threads": torch.get_num_threads(),
                  "draws": [random.random(), float(np.random.rand()), torch.rand(1).item()]}))
"""


# numpy's OpenBLAS starts its threads when imported unless told not to, and a zygote with
# threads refuses to fork (its kernels start plain). `make unit` sets these for every
# process; a bare `pytest tests/` may not, so the zygotes here and the fresh kernels they
# are compared with get them explicitly.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _start_zygote(folder: Path, *command: str) -> subprocess.Popen:
    socket_path = str(folder / "zygote.sock")
    kernelspec(folder=folder, socket_path=socket_path)
    return subprocess.Popen([*command, socket_path], env={**os.environ, **ONE_THREAD})


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory):
    """The folder holding a zygote's kernelspec, and the zygote (this module's own)."""
    folder = tmp_path_factory.mktemp("kernels")
    process = _start_zygote(folder, sys.executable, str(ZYGOTE), "serve")
    yield folder, process.pid
    process.terminate()
    assert process.wait(timeout=10) == 0, "the zygote did not stop cleanly on SIGTERM"
    assert not (folder / "zygote.sock").exists(), "the zygote left its socket behind"


def _kernel_command(folder: Path) -> list[str]:
    return json.loads((folder / "kernels" / "python3" / "kernel.json").read_text())["argv"]


@contextlib.contextmanager
def _jupyter_path(folder: Path | None):
    """Jupyter looks kernelspecs up in ``folder`` first (only the default one if None)."""
    old = os.environ.pop("JUPYTER_PATH", None)
    if folder is not None:
        os.environ["JUPYTER_PATH"] = str(folder)
    try:
        yield
    finally:
        os.environ.pop("JUPYTER_PATH", None)
        if old is not None:
            os.environ["JUPYTER_PATH"] = old


def _probe(folder: Path | None, label: str) -> dict:
    """Run PROBE in a new kernel (forked when ``folder`` holds the zygote's kernelspec)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
    with _jupyter_path(folder):
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(LESSONS)}}).execute(
            env={**os.environ, **ONE_THREAD, "RLTUTOR_PROBE": label})
    return json.loads(nb.cells[0].outputs[0]["text"])


@contextlib.contextmanager
def _kernel(folder: Path):
    """A started kernel from ``folder``'s kernelspec, its manager and a ready client."""
    with _jupyter_path(folder):
        manager = KernelManager(kernel_name="python3")
        manager.start_kernel(cwd=str(LESSONS))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_forked_kernel_looks_like_a_fresh_one(zygote: tuple[Path, int]) -> None:
    folder, zygote_pid = zygote
    fresh, first, second = _probe(None, "fresh"), _probe(folder, "one"), _probe(folder, "two")
    assert fresh["ppid"] == os.getpid()
    for forked, label in ((first, "one"), (second, "two")):
        assert forked["ppid"] == zygote_pid  # forked, not started the usual way
        assert forked["asked"] == label  # the environment it was started with
        for key in ("cwd", "argv0", "path0", "pygame", "backend", "threads", "sigpipe"):
            assert forked[key] == fresh[key], key
    # the zygote's own folder (tools/) is not importable from a lesson
    assert not first["path0"].endswith("tools")
    # unseeded draws are new in every kernel, as in fresh ones: the same-output check still
    # catches a lesson that forgot a seed
    for a, b in zip(first["draws"], second["draws"], strict=True):
        assert a != b
    assert first["pid"] != second["pid"]


def _client_falls_back(folder: Path) -> list[str]:
    """Run the kernelspec's client alone, with a stand-in ``ipykernel_launcher`` first on
    the path that records how it was started (a real kernel would need a Jupyter client)."""
    (folder / "ipykernel_launcher.py").write_text(
        "import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    command = [arg.replace("{connection_file}", "kernel-1.json")
               for arg in _kernel_command(folder)] + ["--HistoryManager.hist_file=:memory:"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(folder)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_client_with_no_zygote_becomes_a_plain_kernel(tmp_path: Path) -> None:
    kernelspec(folder=tmp_path, socket_path=str(tmp_path / "nobody-listens.sock"))
    # the options Jupyter adds after the kernelspec's reach the kernel as they would
    assert _client_falls_back(tmp_path) == ["-f", "kernel-1.json",
                                            "--HistoryManager.hist_file=:memory:"]


def test_a_zygote_whose_imports_warn_refuses_and_kernels_start_plain(tmp_path: Path) -> None:
    # a warning at import shows in a fresh kernel's first cell and would not in a forked
    # one, so such a zygote must not fork: what a lesson prints never depends on the zygote
    (tmp_path / "warns_at_import.py").write_text("import warnings\nwarnings.warn('hello')\n")
    serve = (f"import sys; sys.path[:0] = [{str(tmp_path)!r}, {str(ZYGOTE.parent)!r}]; "
             "import kernel_zygote as z; z.PRELOAD = ('warns_at_import',); "
             "z.serve(sys.argv[1])")
    process = _start_zygote(tmp_path, sys.executable, "-c", serve)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "zygote.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "zygote.sock").exists(), "the zygote never listened"
        assert _client_falls_back(tmp_path)[:2] == ["-f", "kernel-1.json"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_interrupt_reaches_the_forked_kernel(zygote: tuple[Path, int]) -> None:
    with _kernel(zygote[0]) as (manager, client):
        asked = client.execute("import time; time.sleep(60)")
        time.sleep(1.0)
        manager.interrupt_kernel()  # a SIGINT to the client, which passes it on
        reply = client.get_shell_msg(timeout=20)
        while reply["parent_header"].get("msg_id") != asked:  # a late kernel_info reply
            reply = client.get_shell_msg(timeout=20)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"


def test_killing_the_client_ends_its_kernel(zygote: tuple[Path, int]) -> None:
    # Jupyter may SIGKILL a kernel it gave up on; a forked kernel must not outlive that
    outputs: list[dict] = []
    with _kernel(zygote[0]) as (manager, client):
        reply = client.execute_interactive("import os; print(os.getpid(), os.getppid())",
                                           timeout=20, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok"
        text = next(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        kernel_pid, parent = map(int, text.split())
        assert parent == zygote[1], "a plain kernel, not a forked one"
        os.kill(manager.provisioner.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{kernel_pid}").exists():
            time.sleep(0.05)
        assert not Path(f"/proc/{kernel_pid}").exists(), "the kernel outlived its client"


def test_the_preload_reports_its_warnings_and_what_it_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # what the preload's imports write to the environment is passed on to each kernel
    (tmp_path / "warns_at_import.py").write_text(
        "import os, warnings\nos.environ['WRITTEN_AT_IMPORT'] = 'yes'\n"
        "warnings.warn('shown at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(kernel_zygote, "PRELOAD", ("warns_at_import",))
    monkeypatch.delenv("WRITTEN_AT_IMPORT", raising=False)
    warned, written = kernel_zygote._preload()
    assert warned == ["UserWarning: shown at import"]
    assert written["WRITTEN_AT_IMPORT"] == "yes"


TRACKER_PROBE = """\
import json, os, psutil
from torchrl.data import LazyTensorStorage
storage = LazyTensorStorage(10)  # its counter is a multiprocessing.Value, with a lock
children = [c for c in psutil.Process().children() if os.getpgid(c.pid) == os.getpgrp()]
print(json.dumps({"kernel": os.getpid(), "children": [c.pid for c in children],
                  "commands": [" ".join(c.cmdline()) for c in children]}))
"""


def test_a_storage_gives_the_kernel_a_child_that_ending_it_at_once_takes_along(
        zygote: tuple[Path, int]) -> None:
    # why the plugin ends kernels at once: ipykernel answers a shutdown request by sending
    # SIGTERM to the children in its process group and waiting for them, and this one, the
    # resource tracker, ignores SIGTERM
    outputs: list[dict] = []
    with _kernel(zygote[0]) as (manager, client):
        reply = client.execute_interactive(TRACKER_PROBE, timeout=60,
                                           output_hook=outputs.append)
        assert reply["content"]["status"] == "ok"
        found = json.loads(next(m["content"]["text"] for m in outputs
                                if m["msg_type"] == "stream"))
        assert any("multiprocessing.resource_tracker" in c for c in found["commands"]), found
        manager.shutdown_kernel(now=True)  # what nbclient's "immediate" does
    pids = [found["kernel"], *found["children"]]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.05)
    assert not [p for p in pids if Path(f"/proc/{p}").exists()], "a process outlived it"
