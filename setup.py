"""Builds rltutor's wheel with the course inside it.

The lessons (``.py``/``.ipynb`` pairs), their solutions, the seed tables lessons 13-14
read, and ``constraints.txt`` (the pins ``rltutor doctor`` checks) are copied from the
checkout into ``rltutor/_course/`` at build time, so git holds one copy of each. An
editable install skips the copy: there ``rltutor.course`` reads the checkout itself.
Everything else about the package is in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
COURSE = (
    "lessons/[0-9][0-9]_*.py",
    "lessons/[0-9][0-9]_*.ipynb",
    "lessons/solutions/[0-9][0-9]_*.py",
    "benchmarks/*_results.json",
    "constraints.txt",
)


class BuildPyWithCourse(build_py):
    """``build_py`` that also copies the course files into ``rltutor/_course/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "rltutor" / "_course"
        files = sorted({p for pattern in COURSE for p in ROOT.glob(pattern)})
        if not any(p.suffix == ".ipynb" for p in files):
            raise FileNotFoundError(f"no lessons under {ROOT / 'lessons'}: build from a checkout")
        for source in files:
            dest = target / source.relative_to(ROOT)
            self.mkpath(str(dest.parent))
            self.copy_file(str(source), str(dest))


setup(cmdclass={"build_py": BuildPyWithCourse})
