"""The ``rltutor`` command: ``lessons`` copies the course out, ``lab`` opens it in
JupyterLab, ``doctor`` checks that this machine can run it.

    >>> main(["lessons", "--on-conflict", "ask"])
    Traceback (most recent call last):
    SystemExit: 2
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rltutor.course import copy_course
from rltutor.doctor import run_checks, to_text

__all__ = ["lab_command", "main"]

DEFAULT_DIR = "rltutor-course"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rltutor", description="rltutor: Jupyter lessons on how TorchRL builds policies.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lessons = sub.add_parser(
        "lessons", help="copy the lessons and solutions into DIR (never over your edits)",
        description="Copy the course into DIR/lessons. A notebook you changed is kept; "
                    "--alongside writes the course's version beside it.")
    lab = sub.add_parser(
        "lab", help="open the lessons of DIR in JupyterLab (127.0.0.1, token auth)",
        description="Copy the course into DIR if it is not there yet, then start "
                    "JupyterLab on 127.0.0.1 with a token, as `make lab` does.")
    for command in (lessons, lab):
        command.add_argument("dir", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                             help=f"the course folder (default: ./{DEFAULT_DIR})")
    choice = lessons.add_mutually_exclusive_group()
    choice.add_argument("--alongside", dest="on_conflict", action="store_const",
                        const="alongside", help="keep your edited files and write the "
                        "course's versions beside them as NAME.course.EXT")
    choice.add_argument("--overwrite", dest="on_conflict", action="store_const",
                        const="overwrite", help="replace your edited files (edits are lost)")
    choice.add_argument("--on-conflict", dest="on_conflict",
                        choices=["refuse", "alongside", "overwrite"], help=argparse.SUPPRESS)
    lessons.set_defaults(on_conflict="refuse")
    doctor = sub.add_parser(
        "doctor", help="check that this machine is ready for the course",
        description="One line per check, with a fix where it fails. Exits 1 when a "
                    "lesson would fail here.")
    doctor.add_argument("--quick", action="store_true",
                        help="skip the checks that start processes (ParallelEnv)")
    return parser


def lab_command(folder: Path, *, is_root: bool | None = None) -> list[str]:
    """The JupyterLab command line ``rltutor lab`` runs: 127.0.0.1, token auth (Jupyter's
    default, never switched off), and ``--allow-root`` only when running as root.

    Args:
        folder: the course folder; JupyterLab opens its ``lessons/``.
        is_root: whether we run as root (default: ask the OS).

    >>> lab_command(Path("c"), is_root=False)[1:]
    ['-m', 'jupyterlab', '--ServerApp.ip=127.0.0.1', '--ServerApp.root_dir=c/lessons']
    >>> lab_command(Path("c"), is_root=True)[-1]
    '--allow-root'
    """
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    command = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.root_dir={folder / 'lessons'}"]
    return command + (["--allow-root"] if is_root else [])


def _refuse_file(folder: Path) -> bool:
    if folder.exists() and not folder.is_dir():
        print(f"rltutor: {folder} is a file; give a folder (new or holding the course)",
              file=sys.stderr)
        return True
    return False


def _lessons(folder: Path, on_conflict: str) -> int:
    if _refuse_file(folder):
        return 2
    report = copy_course(folder, on_conflict=on_conflict)
    print(report.to_text())
    if report.ok:
        print(f"open them with: rltutor lab {folder}")
    return 0 if report.ok else 1


def _lab(folder: Path) -> int:
    if importlib.util.find_spec("jupyterlab") is None:
        print("JupyterLab is not installed here. Install it with:\n"
              f"  {Path(sys.executable).name} -m pip install 'jupyterlab>=4.2,<5'",
              file=sys.stderr)
        return 1
    if _refuse_file(folder):
        return 2
    if not (folder / "lessons").is_dir():
        print(copy_course(folder).to_text())
    return subprocess.call(lab_command(folder))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rltutor`` command with ``argv`` (default: the command line); returns the
    exit status.

    Args:
        argv: the arguments after ``rltutor``.

    >>> try:  # doctest: +ELLIPSIS
    ...     main(["--help"])
    ... except SystemExit as done:
    ...     print("exit status", done.code)
    usage: rltutor [-h] COMMAND ...
    ...
        lessons   copy the lessons and solutions into DIR (never over your edits)
        lab       open the lessons of DIR in JupyterLab (127.0.0.1, token auth)
        doctor    check that this machine is ready for the course
    ...
    exit status 0
    """
    args = _parser().parse_args(argv)
    if args.command == "lessons":
        return _lessons(Path(args.dir), args.on_conflict)
    if args.command == "lab":
        return _lab(Path(args.dir))
    results = run_checks(quick=args.quick)
    print(to_text(results))
    return 1 if any(r.status == "fail" for r in results) else 0


if __name__ == "__main__":  # pragma: no cover - `python -m rltutor.cli`
    sys.exit(main())
