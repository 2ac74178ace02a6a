"""The lessons read as one course (issue 25): the mechanical conventions of README's
"Adding or editing a lesson", checked in every lesson's source (``lessons/NN_name.py``)."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rltutor

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
IDS = [path.stem[:2] for path in LESSONS]
# Lessons 01-03 teach GymEnv and set_seed themselves; later ones use rltutor.make_env.
TEACHES_GYMENV = {"01", "02", "03"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _dotted(node: ast.AST) -> str:
    """``rltutor.rollout`` for that attribute chain, ``""`` for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.name}:{node.lineno}"


def test_every_lesson_is_checked():
    assert len(LESSONS) >= 15


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_exercise_headings_are_numbered_level_two_with_a_colon(path):
    headings = [line[2:] for line in path.read_text(encoding="utf-8").splitlines()
                if re.match(r"# #+ .*\bExercise", line)]
    assert headings, f"{path.name} has no exercise"
    for n, heading in enumerate(headings, start=1):
        assert re.fullmatch(rf"## Exercise {n}: \S.*", heading), (
            f"{path.name}: {heading!r}; write '## Exercise {n}: what it asks'")


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_imports_sit_at_the_top_before_any_other_code(path):
    body = _tree(path).body
    first_code = next((node for node in body
                       if not isinstance(node, (ast.Import, ast.ImportFrom))), None)
    late = [_where(path, node) for node in ast.walk(_tree(path))
            if isinstance(node, (ast.Import, ast.ImportFrom))
            and first_code is not None and node.lineno > first_code.lineno]
    assert not late, f"imports below the lesson's first code (move them to the top): {late}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_imports_are_sorted_as_ruff_sorts_them(path):
    # One import per line (the lesson may wrap long ones and split them over two cells),
    # sorted by ruff's isort rules: standard library, third party, then rltutor. A long
    # import from one module may be split over two lines (it reads better in a notebook
    # cell than ruff's one name per line): adjacent ones are merged first.
    imports = [node for node in _tree(path).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    merged: list[ast.stmt] = []
    for node in imports:
        previous = merged[-1] if merged else None
        if (isinstance(node, ast.ImportFrom) and isinstance(previous, ast.ImportFrom)
                and (node.module, node.level) == (previous.module, previous.level)
                and not any(alias.asname for alias in [*node.names, *previous.names])):
            previous.names += node.names
            continue
        merged.append(node)
    given = [ast.unparse(node) for node in merged]
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "I", "--fix",
         "--line-length", "1000", "--config", "lint.isort.known-first-party=['rltutor']",
         "--stdin-filename", path.name, "-"],
        input="\n".join(given) + "\n", capture_output=True, text=True, check=False)
    wanted = [line for line in ruff.stdout.splitlines() if line.strip()]
    assert given == wanted, f"{path.name}: imports out of order; ruff sorts them as {wanted}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_widgets_are_built_by_keyword(path):
    positional = [_where(path, call) for call in _calls(_tree(path))
                  if _dotted(call.func).startswith("widgets.") and call.args]
    assert not positional, (
        f"build controls by keyword, e.g. widgets.IntSlider(value=0, min=0, max=9): {positional}")


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_rollout_calls_follow_one_argument_order(path):
    order = [name for name in inspect.signature(rltutor.rollout).parameters
             if name not in ("env", "policy")]
    wrong = []
    for call in _calls(_tree(path)):
        name = _dotted(call.func)
        keywords = [k.arg for k in call.keywords]
        if name == "rltutor.rollout":
            given = [k for k in keywords if k in order]
            if len(call.args) != 2 or given != sorted(given, key=order.index):
                wrong.append(f"{_where(path, call)} rltutor.rollout(env, policy, {given})")
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "rollout" and (
                "max_steps" in keywords or "policy" in keywords):
            wrong.append(f"{_where(path, call)} env.rollout(steps, policy) by keyword")
    assert not wrong, (
        "write rltutor.rollout(env, policy, steps=, exploration=, seed=, break_when_done=) "
        f"in that order and env.rollout(steps, policy) positionally: {wrong}")


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_rollout_results_are_named_td(path):
    wrong = []
    for node in ast.walk(_tree(path)):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "rollout"):
            for target in node.targets:
                if isinstance(target, ast.Name) and not re.fullmatch(
                        r"(\w+_)?(td|batch)", target.id):
                    wrong.append(f"{_where(path, node)} {target.id}")
    assert not wrong, (f"name a rollout's result <what>_td (rollout_td, greedy_td), or "
                       f"<what>_batch where a loss reads it (ddpg_batch): {wrong}")


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_interact_figure_callbacks_are_plot_functions(path):
    wrong = [f"{_where(path, call)} {ast.unparse(call.args[0]) if call.args else '?'}"
             for call in _calls(_tree(path))
             if _dotted(call.func) == "rltutor.interact_figure"
             and not (call.args and isinstance(call.args[0], ast.Name)
                      and call.args[0].id.startswith("plot_"))]
    assert not wrong, f"an interact_figure callback is a plot_<what> function: {wrong}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_environments_are_seeded_where_they_are_made(path):
    tree = _tree(path)
    unseeded = [_where(path, call) for call in _calls(tree)
                if _dotted(call.func) == "rltutor.make_env"
                and "seed" not in {k.arg for k in call.keywords}]
    assert not unseeded, f"rltutor.make_env(name, seed=...) says its seed: {unseeded}"
    if path.stem[:2] in TEACHES_GYMENV:
        return
    # After lesson 03, a GymEnv by hand only where make_env cannot say it: env options
    # (pixels, g=..., device=...), or inside a factory (batched envs, transforms).
    in_defs = {id(call) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
               for call in _calls(node)}
    plain = [_where(path, call) for call in _calls(tree)
             if _dotted(call.func) == "GymEnv" and not call.keywords and id(call) not in in_defs]
    assert not plain, f"use rltutor.make_env(name, seed=...) here: {plain}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_lesson_plots_use_the_house_style(path):
    text = path.read_text(encoding="utf-8")
    for pattern, fix in ((r"matplotlib\.pyplot|\bplt\.", "rltutor.plots.make_picture"),
                         (r"tight_layout", "make_picture's constrained layout"),
                         (r"""color=["'](C\d|#[0-9a-fA-F]{6})["']""",
                          "a colour from rltutor.plots.PALETTE or ROLES")):
        found = [f"{path.name}:{n}" for n, line in enumerate(text.splitlines(), 1)
                 if re.search(pattern, line)]
        assert not found, f"use {fix}: {found}"
