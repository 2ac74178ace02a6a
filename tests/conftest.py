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
import torch
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
    "test_kernel_zygote.py",
    "test_lesson_claims.py", "test_lesson13_claims.py", "test_lesson14_claims.py",
    "test_exercises_lesson11.py", "test_exercises_lesson12.py",
    "test_exercises_lesson13.py", "test_exercises_lesson14.py", "test_exercises_lesson15.py",
    # these two start ParallelEnv workers and time seconds of sleeping envs
    "test_exercises_lesson08.py::test_parallel_timing_solution_passes",
    "test_exercises_lesson08.py::test_parallel_timing_nearest_cell_plain_pendulum_everywhere_is_rejected",
}

# The longest units of `make unit`, longest first, with their rough CPU seconds on the
# 2-core CI machine: a test id or its start ("[1" matches lessons 10-15), or a test file
# whose tests share a module fixture and so run as one unit (see below). `pytest -n 2
# --dist loadgroup --no-loadscope-reorder` (the Makefile) hands the workers one unit at a
# time in this order, so both stay busy to the end instead of one finishing a long test
# alone. Tests not listed keep their file order, after these.
LONGEST_FIRST = (
    ("test_lesson_claims.py::test_lesson12_", 120),  # with the DT policy they share
    ("test_lessons.py::test_lesson_prints_the_same_on_a_second_run[14]", 100),
    ("test_lessons.py::test_lesson_prints_the_same_on_a_second_run[13]", 60),
    ("test_lessons.py::test_lesson_prints_the_same_on_a_second_run[1", 40),
    ("test_lesson_claims.py::test_lesson04_", 40),
    ("test_lesson_claims.py::test_lesson09_", 40),
    ("test_exercises_lesson15.py::test_fixed_parts_solution", 35),
    ("test_exercises_lesson15.py::test_the_mystery", 30),
    ("test_lesson_claims.py::test_lesson06_", 25),
    ("test_exercises_lesson12.py::test_ceiling", 20),  # with the policy they share
    ("test_lessons.py::test_lesson_prints_the_same_on_a_second_run", 15),
    ("test_lesson_claims.py::test_lesson0", 10),
    ("test_distributed.py", 10),
    ("test_kernel_zygote.py", 10),
    ("test_site.py", 10),
    ("test_browser.py", 10),
    ("test_panel_still.py", 5),
)


def _seconds(nodeid: str) -> float:
    name = nodeid.rsplit("/", 1)[-1]
    return next((seconds for start, seconds in LONGEST_FIRST if name.startswith(start)), 0.0)


def _module_fixtures(item: pytest.Item) -> set[str]:
    """The fixtures built once per module that the test uses, defined in its own module."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    module = getattr(getattr(item, "module", None), "__name__", None)
    return {name for name, fixturedefs in definitions.items() for fixturedef in fixturedefs
            if fixturedef.scope == "module"
            and getattr(fixturedef.func, "__module__", None) == module}


def _shared_fixture_groups(items: list[pytest.Item]) -> dict[pytest.Item, str]:
    """Tests that share a module fixture (directly or through another test), one group each.

    Each group runs on one worker (``xdist_group``), so the fixture (a trained policy, a
    browser, a results table) is built once, not once per worker.
    """
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    used = {item: [f"{item.fspath}::{name}" for name in sorted(_module_fixtures(item))]
            for item in items}
    for keys in used.values():
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    return {item: root(keys[0]).rsplit("/", 1)[-1] for item, keys in used.items() if keys}


def _suffix_group_for_xdist(config: pytest.Config, item: pytest.Item, group: str) -> None:
    """What ``--dist loadgroup`` does with an ``xdist_group`` mark: ``nodeid@group``.

    pytest-xdist 3.8 writes ``item._nodeid``, which pytest 9 no longer reads (a node keeps
    its id in ``_id``), so its groups do nothing there; this sets the id pytest 9 reads.
    """
    if not getattr(config.option, "loadgroup", False) or not hasattr(item, "_id"):  # a worker's
        return
    from _pytest.nodeid import coerce_node_id

    item._id = coerce_node_id(f"{item.nodeid}@{group}")


def pytest_configure(config: pytest.Config) -> None:
    # Every test process computes on one thread, as the lessons do, whatever ran before in
    # its worker (a test setting it for itself would change it for the tests after it).
    torch.set_num_threads(1)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups and `-m` deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests (``SLOW_FILES``), group tests sharing a module's costly fixture,
    and put the longest units first (``LONGEST_FIRST``)."""
    groups = _shared_fixture_groups(items)
    units: dict[str, float] = {}
    unit_of = {}
    for item in items:
        name = Path(str(item.fspath)).name
        function = f"{name}::{getattr(item, 'originalname', item.name)}"
        if name in SLOW_FILES or function in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
        if item in groups:
            item.add_marker(pytest.mark.xdist_group(groups[item]))
            _suffix_group_for_xdist(config, item, groups[item])
        unit_of[item] = groups.get(item, item.nodeid)
        units[unit_of[item]] = max(units.get(unit_of[item], 0.0), _seconds(item.nodeid))
    first_seen = {unit: i for i, unit in reversed(list(enumerate(unit_of[item] for item in items)))}
    items.sort(key=lambda item: (-units[unit_of[item]], first_seen[unit_of[item]]))
