"""Fixtures shared by the test modules, and the repository root on ``sys.path``.

The root is added so that tests can import the development tools in ``tools/`` (the
lesson pair checker, the site builder) the way ``python -m tools.<name>`` runs them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from torchrl.envs import GymEnv

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SOLUTIONS = ROOT / "lessons" / "solutions"


def load_solution(name: str) -> ModuleType:
    """The solution file ``lessons/solutions/<name>.py``, run as a module of its own.

    The exercise tests import it with ``from conftest import load_solution``.
    """
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pendulum() -> GymEnv:
    """A Pendulum-v1 GymEnv seeded with 0, shared by the tests of one module."""
    env = GymEnv("Pendulum-v1")
    env.set_seed(0)
    return env


@pytest.fixture(scope="module")
def cartpole() -> GymEnv:
    """A CartPole-v1 GymEnv seeded with 0, shared by the tests of one module."""
    env = GymEnv("CartPole-v1")
    env.set_seed(0)
    return env


# `make quick` runs everything but these: tests that start a Jupyter kernel or a browser,
# spawn worker processes, train, or sweep a lesson's claims over seeds 0-9. `make unit`
# (and `make test`) run them all.
SLOW_FILES = {
    "test_lessons.py::test_lesson_prints_the_same_on_a_second_run", "test_panel_still.py",
    "test_site.py", "test_browser.py", "test_distributed.py", "test_cuda.py",
    "test_lesson_claims.py", "test_lesson13_claims.py", "test_lesson14_claims.py",
    "test_lesson15_claims.py", "test_exercises_lesson11.py", "test_exercises_lesson12.py",
    "test_exercises_lesson13.py", "test_exercises_lesson14.py", "test_exercises_lesson15.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests (see ``SLOW_FILES``) so that ``-m "not slow"`` leaves them out."""
    for item in items:
        name = Path(str(item.fspath)).name
        function = f"{name}::{getattr(item, 'originalname', item.name)}"
        if name in SLOW_FILES or function in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
