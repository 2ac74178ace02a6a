"""Lesson 15's seed table: the correct DQN loop and each silent bug, on several seeds.

The lesson runs the correct loop and its six bugs on seed 0 and draws the curves. One seed
is one anecdote, so this script runs the same seven pipelines on seeds 0-4, with the
lesson's own code: its imports, UPPER_CASE settings, functions and classes are read from
``lessons/15_silent_bugs.py`` and executed here (the few top-level lines that build a bug's
parts are repeated below; ``tests/test_lesson15_claims.py`` checks each is in the lesson).
Each pipeline's number is its best greedy return (3 seeded episodes after every 500
frames of the lesson's 2,000).

Run alone: ``python benchmarks/bench_silent_bugs.py`` (about 40 s of CPU per seed here;
``SEEDS=0,1`` picks seeds); ``--write`` saves the table as
``benchmarks/silent_bugs_seeds.json`` with a fingerprint of the lesson code it ran, which
the claims test compares with the lesson as it is now. ``run()`` re-checks the claim for
``make bench`` and returns its rows.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import re
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import row  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "15_silent_bugs.py"
RESULTS = ROOT / "benchmarks" / "silent_bugs_seeds.json"
SEEDS = (0, 1, 2, 3, 4)
SHARE = 1 / 3  # the lesson's claim (seeds 0-2): every bug's best stays below this share
CORRECT_AT_LEAST = 100.0  # and the correct loop learns at all


def _definition_nodes() -> list[ast.stmt]:
    tree = ast.parse(LESSON.read_text())
    return [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
            or (isinstance(node, ast.Assign)
                and all(name.isupper() for target in node.targets
                        for name in re.findall(r"\w+", ast.unparse(target))))]


def fingerprint() -> str:
    """A hash of the lesson code the table depends on (its definitions and settings)."""
    code = "\n".join(ast.unparse(node) for node in _definition_nodes())
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def lesson_definitions() -> dict:
    """Run the lesson's imports, UPPER_CASE settings, functions and classes; return them."""
    namespace: dict = {}
    module = ast.Module(_definition_nodes(), type_ignores=[])
    exec(compile(module, str(LESSON), "exec"), namespace)
    return namespace


def _trains_a_copy(ns: dict, seed: int) -> dict:
    import torch
    from torchrl.objectives import DQNLoss, SoftUpdate

    parts = ns["build"](seed=seed)
    untrained = copy.deepcopy(parts["policy"])
    parts["loss"] = DQNLoss(untrained, action_space=parts["env"].action_spec, delay_value=True)
    parts["optimizer"] = torch.optim.Adam(parts["loss"].parameters(), lr=ns["LR"])
    parts["target_updater"] = SoftUpdate(parts["loss"], eps=0.99)
    return parts


def pipelines(ns: dict) -> dict:
    """name -> (function of a seed that builds the parts, the update the loop uses)."""
    from torchrl.data import Categorical

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


def curves(ns: dict, seed: int) -> dict[str, list[float]]:
    """pipeline -> greedy return at each evaluation point of the lesson's budget, one seed."""
    import torch

    torch.set_num_threads(1)
    return {name: [round(float(r), 2) for r in ns["train"](**make(seed=seed), update=update)]
            for name, (make, update) in pipelines(ns).items()}


def problems(row_: dict[str, float]) -> list[str]:
    """What breaks the lesson's claim in one seed's row (empty when it holds)."""
    correct = row_["correct loop"]
    found = [] if correct >= CORRECT_AT_LEAST else [f"the correct loop's best is {correct}"]
    return found + [f"{bug} reaches {best} (a third of the correct loop's is {correct / 3:.1f})"
                    for bug, best in row_.items()
                    if bug != "correct loop" and best >= SHARE * correct]


def collect(seeds=SEEDS) -> dict:
    ns = lesson_definitions()
    table, best, cpu = {}, {}, {}
    for seed in seeds:
        start = time.process_time()
        table[str(seed)] = curves(ns, seed)
        best[str(seed)] = {name: max(curve) for name, curve in table[str(seed)].items()}
        cpu[str(seed)] = round(time.process_time() - start, 1)
        print(f"seed {seed}: {table[str(seed)]} ({cpu[str(seed)]} s of CPU)", file=sys.stderr)
    return {"fingerprint": fingerprint(), "seeds": list(seeds), "frames": ns["EVAL_FRAMES"],
            "bests": best, "curves": table, "cpu_seconds": cpu}


def seed_table(results: dict) -> str:
    names = list(next(iter(results["bests"].values())))
    lines = ["seed  " + "  ".join(f"{n:>20}" for n in names)]
    for seed, best in results["bests"].items():
        lines.append(f"{seed:>4}  " + "  ".join(f"{best[n]:>20.1f}" for n in names))
    return "\n".join(lines)


def rows_from(results: dict) -> list[dict]:
    bests_ = results["bests"].values()
    worst_share = max(best / row_["correct loop"] for row_ in bests_
                      for bug, best in row_.items() if bug != "correct loop")
    held = sum(not problems(row_) for row_ in bests_)
    return [row(f"lesson 15: seeds of {results['seeds']} where every bug's best is below a "
                "third of the correct loop's", held, unit="seeds",
                target="3 (seeds 0-2, as the lesson says)"),
            row("lesson 15: worst bug's best / correct loop's best", round(worst_share, 3),
                unit="share")]


def run() -> list[dict]:
    """``make bench``: re-runs the table, prints it (to stderr), returns the summary rows."""
    results = collect(_seeds())
    print(seed_table(results), file=sys.stderr)
    return rows_from(results)


def _seeds() -> tuple[int, ...]:
    chosen = os.environ.get("SEEDS")
    return tuple(int(s) for s in chosen.split(",")) if chosen else SEEDS


def main(argv: list[str]) -> int:
    results = collect(_seeds())
    print(seed_table(results))
    for seed, row_ in results["bests"].items():
        for problem in problems(row_):
            print(f"seed {seed}: {problem}")
    if "--write" in argv:
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
