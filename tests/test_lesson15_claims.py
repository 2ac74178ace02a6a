"""Lesson 15's claims: each silent bug learns clearly less than the correct loop, on seeds.

The lesson's own definitions (settings, ``build``, ``td_target``, ``gradient_step``, the
buggy variants, ``train``) are read from ``lessons/15_silent_bugs.py`` and run here, so
the test and the lesson cannot drift apart; the few top-level lines that build a bug's
parts are repeated below, and each is looked up in the lesson first.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
from functools import partial
from pathlib import Path

import pytest
import torch
from torchrl.data import Categorical
from torchrl.objectives import DQNLoss, SoftUpdate

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "15_silent_bugs.py"
SEEDS = (0, 1, 2)  # each seed costs seven short runs (about 50 s of CPU here)
SHARE = 1 / 3  # every bug's best stays below this share of the correct loop's best


def lesson_definitions() -> dict:
    """Run the lesson's imports, UPPER_CASE settings, functions and classes; return them."""
    tree = ast.parse(LESSON.read_text())
    keep = [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
            or (isinstance(node, ast.Assign)
                and all(name.isupper() for target in node.targets
                        for name in re.findall(r"\w+", ast.unparse(target))))]
    namespace: dict = {}
    exec(compile(ast.Module(keep, type_ignores=[]), str(LESSON), "exec"), namespace)
    return namespace


def prose() -> str:
    return re.sub(r"\s+", " ", re.sub(r"(?m)^# ?", "", LESSON.read_text()))


def _trains_a_copy(ns: dict, seed: int) -> dict:
    parts = ns["build"](seed=seed)
    untrained = copy.deepcopy(parts["policy"])
    parts["loss"] = DQNLoss(untrained, action_space=parts["env"].action_spec, delay_value=True)
    parts["optimizer"] = torch.optim.Adam(parts["loss"].parameters(), lr=ns["LR"])
    parts["target_updater"] = SoftUpdate(parts["loss"], eps=0.99)
    return parts


def pipelines(ns: dict) -> dict:
    """name -> (function of a seed that builds the parts, the update the loop uses)."""
    build, step = ns["build"], ns["gradient_step"]
    return {
        "correct loop": (build, step),
        "1 target never moves": (build, ns["gradient_step_no_target"]),
        "2 done from the root": (build, partial(step, target=ns["td_target_root"])),
        "3 integer action": (partial(build, action_spec=Categorical(2)), step),
        "4 stray detach": (partial(build, network=ns["LoggedQNet"]), step),
        "5 loss trains a copy": (partial(_trains_a_copy, ns), step),
        "6 no zero_grad": (build, ns["gradient_step_no_zero"]),
    }


@functools.cache
def _definitions() -> dict:
    return lesson_definitions()


def bests(seed: int) -> dict:
    """pipeline -> best greedy return within the lesson's budget, on one seed."""
    ns = _definitions()
    torch.set_num_threads(1)
    out = {name: max(ns["train"](**make(seed=seed), update=update))
           for name, (make, update) in pipelines(ns).items()}
    print(seed, {name: round(best) for name, best in out.items()})  # shown with pytest -s
    return out


def test_the_lines_repeated_here_are_the_lessons():
    text = LESSON.read_text()
    for line in ('parts = build(seed=0, action_spec=Categorical(2))',
                 'parts = build(seed=0, network=LoggedQNet)',
                 'untrained = copy.deepcopy(parts["policy"])',
                 'parts["loss"] = DQNLoss(untrained, action_space=parts["env"].action_spec, '
                 'delay_value=True)',
                 'update=partial(gradient_step, target=td_target_root)',
                 'update=gradient_step_no_target', 'update=gradient_step_no_zero'):
        assert line in text, line


def test_lesson_states_the_claim_tested_here():
    assert "on seeds 0, 1 and 2" in prose()
    assert "below a third of the correct loop's best" in prose()


# One test per seed: the seven runs of a seed are its own unit of work, so `pytest -n 2`
# spreads the seeds over the workers and no worker trains a seed another one trained.
@pytest.mark.parametrize("seed", SEEDS)
def test_the_correct_loop_learns_and_each_bug_learns_clearly_less(seed):
    row = bests(seed)
    assert row["correct loop"] >= 100, row
    close = {bug: best for bug, best in row.items()
             if bug != "correct loop" and best >= SHARE * row["correct loop"]}
    assert not close, f"seed {seed}: these bugs learn almost as well: {close} ({row})"
