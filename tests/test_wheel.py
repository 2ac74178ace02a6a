"""The wheel, installed offline into a fresh virtual environment, runs the course.

Steps (each one's time is printed; ``make wheel-test`` shows them):

1. build rltutor's wheel from a copy of the source (``pip wheel``, no index, no build
   isolation) and check that it carries every course file byte for byte;
2. a wheelhouse of the pinned versions (``tools/wheelhouse.py``, kept in
   ``build/wheelhouse/<constraints hash>/`` and reused while constraints.txt is unchanged);
3. a fresh virtual environment from the base interpreter, without system site-packages;
4. ``pip install --no-index --no-compile --find-links <wheelhouse> --find-links /opt/wheels
   -c constraints.txt <wheel> nbmake``, with pip's configuration ignored and the proxy set
   to a closed port, so any attempt to reach the network fails the install;
5. ``rltutor lessons`` into a temporary folder, lesson 01 executed there by nbmake in the
   new environment, and ``rltutor doctor --quick`` exiting 0.

Why the wheelhouse is packed from ``.venv`` and not taken from a cache: on these machines
pip's cache is empty (``pip cache info``: 0 wheels), and the local mirrors
(``/opt/pypi``, ``/opt/pypi-more``) hold other versions of 59 of the pinned packages and
none of torchrl, tensordict, jupytext, nbmake, hoptorch, pyvers or lazy-importer. The one
offline copy of the pinned set is what ``make`` installed into ``.venv`` with
``-c constraints.txt``, so step 2 packs those installed files back into wheels (torch
comes as the real wheel from ``/opt/wheels``). The new environment is otherwise fresh: it
shares no files with ``.venv`` or the checkout.

It takes minutes, so it runs only with ``RLTUTOR_WHEEL_TEST=1``: ``make wheel-test``,
which ``.ci/run`` calls after ``make test``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from rltutor.course import course_files
from tools.wheelhouse import build_wheelhouse

ROOT = Path(__file__).resolve().parents[1]
PREBUILT = Path("/opt/wheels")
SOURCES = ["rltutor", "lessons", "benchmarks", "setup.py", "pyproject.toml", "README.md",
           "constraints.txt", "MANIFEST.in"]
LESSON = "lessons/01_tensordict_module.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("RLTUTOR_WHEEL_TEST") != "1",
                       reason="builds and installs the wheel (minutes): make wheel-test runs it"),
]


def _offline_env(home: Path, venv: Path | None = None) -> dict[str, str]:
    """An environment with no pip configuration, no network and nothing of ours on the path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "JUPYTER", "VIRTUAL_ENV"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1", HOME=str(home),
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"
    return env


def _run(command: list[str], *, cwd: Path, env: dict[str, str], times: dict[str, float],
         step: str) -> str:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    times[step] = time.perf_counter() - start
    assert done.returncode == 0, f"{step} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _wheelhouse(times: dict[str, float]) -> Path:
    key = hashlib.sha256((ROOT / "constraints.txt").read_bytes()).hexdigest()[:12]
    folder = ROOT / "build" / "wheelhouse" / key
    start = time.perf_counter()
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        build_wheelhouse(folder, roots=["rltutor", "nbmake"],
                         prebuilt=sorted(PREBUILT.glob("*.whl")))
        (folder / ".complete").write_text("packed from .venv by tools/wheelhouse.py\n")
    times["2 wheelhouse (packed from .venv, or reused)"] = time.perf_counter() - start
    return folder


def test_the_wheel_runs_the_course_in_a_fresh_offline_environment(tmp_path):
    times: dict[str, float] = {}
    home = tmp_path / "home"
    home.mkdir()
    source, dist, venv, course = (tmp_path / n for n in ("src", "dist", "venv", "course"))
    start = time.perf_counter()
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns(
                "__pycache__", "results", ".ipynb_checkpoints"))
        else:
            shutil.copy2(ROOT / name, source / name)
    times["0 copy the sources"] = time.perf_counter() - start
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", str(dist), str(source)], cwd=tmp_path,
         env=_offline_env(home), times=times, step="1 build the wheel")
    (wheel,) = dist.glob("rltutor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        # against the copy it was built from: others may edit the checkout meanwhile
        for rel in [*course_files(root=source), Path("constraints.txt")]:
            packed = archive.read(f"rltutor/_course/{rel.as_posix()}")
            assert packed == (source / rel).read_bytes(), rel

    wheelhouse = _wheelhouse(times)
    try:
        _run([sys._base_executable, "-m", "venv", str(venv)], cwd=tmp_path,
             env=_offline_env(home), times=times, step="3 fresh venv")
        assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
        python = str(venv / "bin" / "python")
        env = _offline_env(home, venv)
        _run([python, "-m", "pip", "install", "--quiet", "--no-index", "--no-compile",
              "--find-links", str(wheelhouse), "--find-links", str(PREBUILT),
              "-c", str(ROOT / "constraints.txt"), str(wheel), "nbmake"],
             cwd=tmp_path, env=env, times=times, step="4 pip install, offline")
        _run([python, "-m", "pip", "check"], cwd=tmp_path, env=env, times=times,
             step="4b pip check")
        where = _run([python, "-c", "import rltutor.course as c; print(c.course_root())"],
                     cwd=tmp_path, env=env, times=times, step="4c import rltutor")
        assert Path(where.strip()).is_relative_to(venv), where

        _run([str(venv / "bin" / "rltutor"), "lessons", str(course)], cwd=tmp_path, env=env,
             times=times, step="5 rltutor lessons")
        assert {p.relative_to(course) for p in course.rglob("*") if p.is_file()} == {
            *course_files(root=source), Path(".rltutor-course.json")}
        _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake",
              "--nbmake-timeout=300", LESSON], cwd=course, env=env, times=times,
             step="6 nbmake lesson 01")
        report = _run([str(venv / "bin" / "rltutor"), "doctor", "--quick"], cwd=tmp_path,
                      env=env, times=times, step="7 rltutor doctor --quick")
        assert report.startswith("✓ versions") and "✗" not in report, report
    finally:
        # the venv is about 1.5 GB; removing it took 4 minutes under load here, so the
        # removal runs on after the test instead of adding to its time
        subprocess.Popen(["rm", "-rf", str(venv)], start_new_session=True)
        print("\nwheel test, seconds per step:")
        for step, seconds in times.items():
            print(f"  {step:<45} {seconds:7.1f}")
        print(f"  {'total':<45} {sum(times.values()):7.1f}")
