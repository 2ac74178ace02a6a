"""Rules every exercise keeps, so that exercises written later keep them too.

* Every exercise asks for a transfer: its solution uses at least one construct (a called
  function or class, a keyword argument, an attribute, a string key, an imported name)
  that no code cell above the exercise's check uses. Editing numbers in a nearby cell
  cannot pass it, because numbers are not constructs.
* Every exercise is tested three ways in ``tests/test_exercises_lessonNN.py``: a right
  answer (a test named for the exercise and "solution"), a typical wrong answer
  ("mistake") and an adapted copy of the nearest cell ("nearest_cell").
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
SOLUTIONS = LESSONS / "solutions"
TESTS = ROOT / "tests"
CHECK = re.compile(r"\bex\.check_(\w+)\(")
# Generic names that say nothing about the idea an exercise teaches: a solution that is
# new only in these is still a copy. A sum is kept out: summing rewards over time is the
# idea of a return (lesson 01's first exercise).
GENERIC = (set(dir(builtins)) - {"sum"}) | {
    "item", "clone", "tolist", "detach", "numpy", "shape", "mean", "to", "cpu",
    "float", "long", "bool", "append", "get", "keys", "values", "items", "tensor",
    "no_grad", "manual_seed", "stack", "cat", "zeros", "ones", "arange", "annotations",
    "self", "observation", "action", "next", "reward", "done", "spec", "env",
}


@dataclass(frozen=True)
class Exercise:
    lesson: str  # e.g. "04_exploration_modules"
    name: str  # check_<name> / solve_<name>
    above: str  # the code of every code cell before the check's cell


def _cells(path: Path) -> list[tuple[str, str]]:
    """(kind, source) per cell of a percent-format lesson."""
    cells: list[tuple[str, str]] = []
    kind, lines = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            if kind is not None:
                cells.append((kind, "\n".join(lines)))
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    if kind is not None:
        cells.append((kind, "\n".join(lines)))
    return cells


def _lessons() -> list[Path]:
    return sorted(LESSONS.glob("[0-9][0-9]_*.py"))


def _exercises() -> list[Exercise]:
    found = []
    for path in _lessons():
        code = [src for kind, src in _cells(path) if kind == "code"]
        seen: set[str] = set()
        for i, src in enumerate(code):
            for name in CHECK.findall(src):
                if name not in seen:
                    seen.add(name)
                    found.append(Exercise(path.stem, name, "\n".join(code[:i])))
    return found


def constructs(tree: ast.AST, imported: set[str] | None = None) -> set[str]:
    """The constructs code uses: called names, keyword names, attributes, string keys.

    >>> sorted(constructs(ast.parse("m = EGreedyModule(spec=s, eps_init=0.1); m.step(3)")))
    ['EGreedyModule', 'eps_init', 'spec', 'step']
    """
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
            names.update(k.arg for k in node.keywords if k.arg)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.fullmatch(r"[A-Za-z_][\w.\-]{0,40}", node.value):
                names.add(node.value)
        elif isinstance(node, ast.Name) and imported and node.id in imported:
            names.add(node.id)
    names.discard("")
    return names


def _imported(tree: ast.Module) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
    return out


def _solution_constructs(exercise: Exercise) -> set[str]:
    """What ``solve_<name>`` uses, with the module's own functions it calls."""
    path = SOLUTIONS / f"{exercise.lesson}.py"
    assert path.exists(), f"{exercise.lesson}: no solutions file {path.relative_to(ROOT)}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    target = f"solve_{exercise.name}"
    assert target in functions, (
        f"{exercise.lesson}: ex.check_{exercise.name} has no `def {target}` in "
        f"{path.relative_to(ROOT)}")
    imported = _imported(tree)
    todo, done, used = [target], set(), set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        body = functions[name]
        body_without_doc = ast.Module(
            body=[s for s in body.body if not (isinstance(s, ast.Expr)
                                                and isinstance(s.value, ast.Constant))],
            type_ignores=[])
        found = constructs(body_without_doc, imported)
        used |= found
        todo.extend(n for n in found if n in functions)
    return used - set(functions)


EXERCISES = _exercises()


def test_every_lesson_with_exercises_is_found():
    lessons = {e.lesson for e in EXERCISES}
    assert len(lessons) >= 12, sorted(lessons)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"{e.lesson[:2]}-{e.name}")
def test_solution_uses_something_no_cell_above_uses(exercise):
    above = constructs(ast.parse(exercise.above), _imported(ast.parse(exercise.above)))
    new = _solution_constructs(exercise) - above - GENERIC
    assert new, (
        f"lesson {exercise.lesson}, exercise {exercise.name}: solve_{exercise.name} uses "
        "nothing that the cells above its check do not already use, so a copy of a "
        "nearby cell with numbers changed would be the answer. Ask for a transfer.")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"{e.lesson[:2]}-{e.name}")
def test_exercise_is_tested_right_wrong_and_against_the_nearest_cell(exercise):
    path = TESTS / f"test_exercises_lesson{exercise.lesson[:2]}.py"
    assert path.exists(), f"no {path.name} for lesson {exercise.lesson}"
    tests = [node.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    mine = [t for t in tests if exercise.name in t]
    missing = [word for word in ("solution", "mistake", "nearest_cell")
               if not any(word in t for t in mine)]
    assert not missing, (
        f"{path.name}: exercise {exercise.name} needs tests named with "
        f"'{exercise.name}' and each of {missing} (right answer, typical wrong answer, "
        f"adapted copy of the nearest cell); found {mine}")
