"""Jupyter kernels forked from one process that has already imported torch and TorchRL.

Every lesson starts a fresh kernel, and every fresh kernel spends about 3.5 CPU-seconds
importing torch, tensordict (which imports ``torch._dynamo``), TorchRL and rltutor before
its first cell does anything. ``make test`` starts 30 of them. This module lets the tests
pay that once per test process: a *zygote* imports the usual modules, then forks one child
per kernel request, and the child becomes an ordinary ``ipykernel`` kernel.

Two halves, both run as this file (``python tools/kernel_zygote.py``):

- ``serve SOCKET``: the zygote. It imports ``PRELOAD`` and answers requests on a Unix
  socket, one fork each.
- ``client SOCKET CONNECTION_FILE``: what the kernelspec launches in place of
  ``ipykernel_launcher``. It hands the zygote its connection file, working folder,
  environment and standard streams, then stays alive while its forked kernel runs, passing
  on the signals Jupyter sends (an interrupt is a SIGINT to this process) and exiting with
  the kernel's exit status. If no zygote answers it becomes a plain kernel by ``exec``, so
  a kernel always starts.

The forked kernel is made to look like a fresh one: its own working folder and
environment (plus what the preloaded imports wrote to theirs, as gymnasium hides pygame's
banner), ``sys.argv`` and ``sys.path``; Python's, numpy's and torch's global generators
seeded anew from the OS, as a fresh process seeds them; matplotlib's backend as ipykernel
sets it. ipykernel itself is not preloaded: it reads the kernel's environment at import.
If importing ``PRELOAD`` showed any warning (a fresh kernel would print it in its first
cell), the zygote refuses to fork and every client becomes a plain kernel: the speed-up
never changes what a lesson prints. Kernels forked from one zygote share its string hash
seed, so the two runs the same-output check compares come from two zygotes. The pytest
plugin that starts the zygotes in each test process and points Jupyter at their
kernelspecs is ``tools/fork_kernels.py``.

Only the standard library is imported at the top: the client must start in milliseconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time

# What a lesson kernel imports first; each name costs its import time once per zygote.
PRELOAD = ("torch", "numpy", "matplotlib", "tensordict", "tensordict.nn", "torchrl",
           "torchrl.envs", "torchrl.modules", "torchrl.objectives", "torchrl.collectors",
           "torchrl.data", "gymnasium", "ipywidgets", "rltutor",
           "rltutor.plots", "rltutor.widgets", "rltutor.display")
# ipykernel sets this before a kernel's first cell when the environment does not
# (ipykernel/kernelapp.py); matplotlib reads it once, at import, so the zygote sets it first.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)


def _send(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One newline-ended JSON message and the file descriptors sent with it."""
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, new_fds, _, _ = socket.recv_fds(conn, 1 << 20, 8)
        if not chunk:
            raise ConnectionError("the other end closed before a whole message")
        data, fds = data + chunk, fds + list(new_fds)
    return json.loads(data), fds


# -- the zygote ---------------------------------------------------------------------------

def _preload() -> tuple[list[str], dict[str, str | None]]:
    """Import ``PRELOAD``. Returns the text of any warning that showed (a fresh kernel
    would print it), and what the imports wrote to the environment (None: removed), which
    a fresh kernel would have on top of the one it was started with."""
    import warnings

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    before = dict(os.environ)
    with warnings.catch_warnings(record=True) as shown:
        for name in PRELOAD:
            __import__(name)
    written = {key: value for key, value in os.environ.items() if before.get(key) != value}
    written.update({key: None for key in before if key not in os.environ})
    return [f"{w.category.__name__}: {w.message}" for w in shown], written


def serve(path: str) -> None:
    """Run the zygote on the Unix socket ``path`` until its parent process ends."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)  # clients may connect while the imports below run; they wait
    signal.signal(signal.SIGTERM, lambda _number, _frame: sys.exit(0))  # runs `finally`
    children: dict[int, socket.socket] = {}
    try:
        _serve(listener, children)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        os.unlink(path)


def _serve(listener: socket.socket, children: dict[int, socket.socket]) -> None:
    parent, (warned, written) = os.getppid(), _preload()
    # A fork copies only the calling thread; with other threads running, a lock one of them
    # held stays locked forever in the child. Nothing here should have started one.
    threaded = threading.active_count() > 1 or len(os.listdir("/proc/self/task")) > 1
    refusal = ("importing the preload showed warnings: " + "; ".join(warned) if warned else
               "the zygote has more than one thread" if threaded else "")
    listener.settimeout(0.1)  # how soon an exited kernel is reported
    while os.getppid() == parent:
        _reap(children)
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        try:
            request, fds = _receive(conn)
        except (OSError, ValueError):
            conn.close()
            continue
        if refusal:
            for fd in fds:  # the client's streams: holding them would keep its pipes open
                os.close(fd)
            _send(conn, {"refused": refusal})
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            for other in children.values():
                other.close()
            _become_kernel(request, fds, conn, written)  # never returns
        for fd in fds:
            os.close(fd)
        children[pid] = conn
        _send(conn, {"pid": pid})


def _reap(children: dict[int, socket.socket]) -> None:
    """Tell each client whose kernel has exited how it exited."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            try:
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
            except OSError:
                pass
            conn.close()


def _become_kernel(request: dict, fds: list[int], conn: socket.socket,
                   written: dict[str, str | None]) -> None:
    """In the forked child: look like a fresh ``python -m ipykernel_launcher``, then run."""
    code = 1
    try:
        os.setsid()  # the client's session, not the zygote's, receives terminal signals
        # the handlers a fresh Python starts with: SIGINT raises KeyboardInterrupt, SIGPIPE
        # is ignored (a write to a closed pipe raises BrokenPipeError), the rest default
        for sig in (*_SIGNALS, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for key, value in written.items():  # gymnasium, for one, hides pygame's banner so
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _fresh_state()
        import importlib.util
        launcher = importlib.util.find_spec("ipykernel_launcher").origin
        sys.argv = [launcher, "-f", request["connection_file"], *request["extra"]]
        script_dir = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != script_dir]
        # The kernel dies with its client: Jupyter may SIGKILL the client, which cannot
        # pass that on. The zygote only ever writes to this socket, so reading it returns
        # only when the client has gone.
        threading.Thread(target=_exit_when_closed, args=(conn,), daemon=True).start()
        from ipykernel import kernelapp
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - a child must never fall back into the zygote
        import traceback
        traceback.print_exc()
    finally:
        import atexit
        atexit._run_exitfuncs()  # what a normal interpreter exit runs (torch, logging, mp)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _fresh_state() -> None:
    """Random state a fresh process would have, and the backend ipykernel would pick.

    A fresh process seeds Python's, numpy's and torch's global generators from the OS's
    entropy, so each forked kernel draws new seeds too: an unseeded draw in a lesson then
    differs from run to run as it would for a learner, and the same-output check sees it.
    """
    import random

    import numpy as np
    import torch
    random.seed()
    np.random.seed()
    torch.seed()
    import matplotlib
    matplotlib.rcParams["backend"] = os.environ.get("MPLBACKEND") or INLINE_BACKEND


def _exit_when_closed(conn: socket.socket) -> None:
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    os._exit(1)


# -- the client ---------------------------------------------------------------------------

def _plain_kernel(connection_file: str, extra: list[str]) -> None:
    """Become an ordinary kernel, as the default kernelspec would start it."""
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f",
                              connection_file, *extra])


def client(path: str, connection_file: str, extra: list[str]) -> None:
    """Start a forked kernel through the zygote at ``path``; a plain one if none answers.

    ``extra`` holds the options Jupyter adds after the kernelspec's own (nbclient adds
    ``--HistoryManager.hist_file=:memory:``); the kernel gets them as it would.
    """
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(40):  # a zygote started a moment ago binds its socket within ~0.1 s
        if os.path.exists(path):
            break
        time.sleep(0.05)
    try:
        conn.connect(path)
        request = {"connection_file": os.path.abspath(connection_file), "cwd": os.getcwd(),
                   "env": dict(os.environ), "extra": extra}
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        # line by line: the kernel's exit may follow its pid closely, in one read
        replies = conn.makefile("rb")
        reply = json.loads(replies.readline() or b"{}")
    except (OSError, ValueError):
        reply = {"refused": "no zygote answered"}
    if "pid" not in reply:
        conn.close()
        print(f"kernel_zygote: a plain kernel ({reply.get('refused', 'no answer')})",
              file=sys.stderr)
        _plain_kernel(connection_file, extra)
    pid = reply["pid"]
    for sig in _SIGNALS:
        signal.signal(sig, lambda number, _frame: os.kill(pid, number))
    try:
        code = json.loads(replies.readline() or b"{}").get("exit", 1)
    except (OSError, ValueError):
        code = 1  # the zygote went away before the kernel ended
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit("usage: kernel_zygote.py serve SOCKET | client SOCKET CONNECTION_FILE "
                 f"[KERNEL OPTION...] (got {sys.argv[1:]})")
