"""Lesson 15's claims: each silent bug learns clearly less than the correct loop, on seeds.

The lesson trains the seven pipelines on seed 0 itself. The other seeds come from the seed
table ``benchmarks/bench_silent_bugs.py --write`` recorded in
``benchmarks/silent_bugs_seeds.json``: that script runs the lesson's own definitions, and
``make bench`` re-runs it. Here, the table must have been written from the lesson as it is
now (the fingerprint of its definitions), hold the claim on every seed, and the few lines
the script repeats must still be the lesson's.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "15_silent_bugs.py"


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_silent_bugs", ROOT / "benchmarks" / "bench_silent_bugs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
RESULTS = json.loads(BENCH.RESULTS.read_text())


def prose() -> str:
    return re.sub(r"\s+", " ", re.sub(r"(?m)^# ?", "", LESSON.read_text()))


def test_the_lines_the_script_repeats_are_the_lessons():
    text = LESSON.read_text()
    for line in ('parts = build(seed=0, action_spec=Categorical(2))',
                 'parts = build(seed=0, network=LoggedQNet)',
                 'untrained = copy.deepcopy(parts["policy"])',
                 'parts["loss"] = DQNLoss(untrained, action_space=parts["env"].action_spec, '
                 'delay_value=True)',
                 'update=partial(gradient_step, target=td_target_root)',
                 'update=gradient_step_no_target', 'update=gradient_step_no_zero'):
        assert line in text, line
    assert set(BENCH.pipelines(BENCH.lesson_definitions())) == {
        "correct loop", "1 target never moves", "2 done from the root", "3 integer action",
        "4 stray detach", "5 loss trains a copy", "6 no zero_grad"}


def test_the_seed_table_was_written_from_the_lesson_as_it_is():
    assert RESULTS["fingerprint"] == BENCH.fingerprint(), (
        "lesson 15's code changed since benchmarks/silent_bugs_seeds.json was written: run "
        "`python benchmarks/bench_silent_bugs.py --write` and commit the table")
    assert RESULTS["seeds"] == list(BENCH.SEEDS) == [0, 1, 2, 3, 4]
    assert list(RESULTS["bests"]) == [str(s) for s in BENCH.SEEDS]


def test_lesson_states_what_the_table_shows_seed_by_seed():
    text = prose()
    assert "on seeds 0 to 4" in text and "benchmarks/bench_silent_bugs.py" in text
    assert ("On seeds 0, 1 and 2, every bug's best greedy return stays below a third of the "
            "correct loop's best") in text
    for seed in ("0", "1", "2"):
        assert BENCH.problems(RESULTS["bests"][seed]) == [], RESULTS["bests"][seed]
    # seed 3: "three bugs reach about half of the correct loop's best"
    assert "on seed 3 three bugs reach about half of the correct loop's best" in text
    row = RESULTS["bests"]["3"]
    close = {bug for bug, best in row.items()
             if bug != "correct loop" and best >= BENCH.SHARE * row["correct loop"]}
    assert len(close) == 3, row
    assert all(0.4 <= row[bug] / row["correct loop"] <= 0.6 for bug in close), row
    # seed 4: the untrained network balances for 500 steps, which bug 5 keeps
    assert ("on seed 4 the *untrained* network already balances for 500 steps (bug 5, whose "
            "loss trains a copy, keeps those first weights and scores 500 at every check)"
            ) in text
    assert RESULTS["curves"]["4"]["5 loss trains a copy"] == [500.0] * len(RESULTS["frames"])
    assert RESULTS["bests"]["4"]["5 loss trains a copy"] > RESULTS["bests"]["4"]["correct loop"]


def test_the_claim_check_rejects_a_bug_that_learns_almost_as_well():
    row = dict(RESULTS["bests"]["0"])
    assert BENCH.problems(row) == []
    row["4 stray detach"] = row["correct loop"] * 0.5
    assert len(BENCH.problems(row)) == 1 and "4 stray detach" in BENCH.problems(row)[0]
    assert BENCH.problems({"correct loop": 40.0, "1 target never moves": 9.0}) == [
        "the correct loop's best is 40.0"]
