"""Lesson 11's fast path (issue 24): the set-up it teaches and the numbers it quotes.

The lesson collects with 10 CartPoles in one ``GymWrapper(SyncVectorEnv)`` (gymnasium's
autoreset off) and keeps lesson 11's schedule; section 10 quotes the compile measurement
that ``benchmarks/bench_fast_paths.py --write`` recorded in ``benchmarks/fast_paths.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "11_first_training_loop.py"
RECORD = ROOT / "benchmarks" / "fast_paths.json"


def _prose() -> str:
    """The markdown of the lesson, comment marks removed, lines joined."""
    lines = [line[2:] if line.startswith("# ") else line.lstrip("#")
             for line in LESSON.read_text().splitlines() if line.startswith("#")]
    return " ".join(" ".join(lines).split())


def test_lesson11_collects_with_the_vectorized_env_and_keeps_its_schedule():
    source = LESSON.read_text()
    assert "gym.vector.SyncVectorEnv(" in source and "GymWrapper(vector)" in source
    assert "autoreset_mode=gym.vector.AutoresetMode.DISABLED" in source
    assert "FRAMES_PER_BATCH = 10 " in source and "UPDATES_PER_BATCH = 5 " in source
    assert "NUM_ENVS = 10 " in source  # one step of each env is one batch of 10 frames
    assert "buffer.extend(batch.reshape(-1))" in source
    # the benchmark's copy of the lesson builds the same environment
    bench = (ROOT / "benchmarks" / "bench_dqn_seeds.py").read_text()
    assert "NUM_ENVS = 10 " in bench and "AutoresetMode.DISABLED" in bench


def test_lesson11_times_only_in_varies_cells():
    source = LESSON.read_text()
    cells = re.split(r"^# %%", source, flags=re.M)
    timed = [c for c in cells if "process_time" in c or "cProfile.Profile()" in c]
    varies = [c for c in cells if c.startswith(' tags=["varies"]')]
    assert 1 <= len(varies) <= 2
    assert all(c.startswith(' tags=["varies"]') for c in timed if "print(" in c)


def test_lesson11_compile_paragraph_quotes_the_record():
    record = json.loads(RECORD.read_text())
    eager, compiled = record["update_eager_ms"], record["update_compiled_ms"]
    compile_s = record["compile_cpu_s"]
    text = _prose()
    quoted = re.search(r"one update took ([\d.]+) ms compiled against ([\d.]+) ms eager, "
                       r"after a first call of ([\d.]+) s of CPU time\. Saving ([\d.]+) ms "
                       r"per update, the compile pays back after about ([\d,]+) updates; "
                       r"this run makes about 4,500", text)
    assert quoted, "section 10 quotes bench_fast_paths' record"
    assert float(quoted[1]) == round(compiled, 1) and float(quoted[2]) == round(eager, 1)
    assert float(quoted[3]) == round(compile_s, 1)
    saved = eager - compiled
    assert float(quoted[4]) == round(saved, 1)
    break_even = int(quoted[5].replace(",", ""))
    assert break_even == round(compile_s / (saved / 1e3), -2)
    assert break_even > 4_500, "the lesson says compiling does not pay at its budget"
    # the lesson's run: updates after the warm-up, 5 per batch of 10 frames
    assert (10_000 - 1_000) // 10 * 5 + 5 == 4_505


def test_lesson11_says_where_seed_0_ranks_in_the_seed_record():
    """The lesson places its own run (seed 0) among seeds 0-9 as the record ranks it."""
    record = (ROOT / "benchmarks" / "dqn_seeds.txt").read_text()
    rows = [line.split("|") for line in record.splitlines() if re.match(r"^\s+\d+ \|", line)]
    held_mean = [float(r[3].split()[0]) for r in rows]
    rank = sorted(held_mean, reverse=True).index(held_mean[0]) + 1
    expected = ("seed 0 is one of the better runs" if rank <= 3 else
                "seed 0 is one of the weaker runs" if rank >= 8 else
                f"seed 0 is a middling run ({rank}th of 10 on held-out episodes)")
    assert expected in _prose()


def test_lesson11_quotes_how_many_runs_ended_below_their_best():
    """Keep the best checkpoint: the lesson counts the runs whose last weights were worse."""
    record = (ROOT / "benchmarks" / "dqn_seeds.txt").read_text()
    rows = [line.split("|") for line in record.splitlines() if re.match(r"^\s+\d+ \|", line)]
    best = [float(r[1].split("(")[0]) for r in rows]
    final = [float(r[2]) for r in rows]
    below = sum(f < b for f, b in zip(final, best, strict=True))
    assert below >= 5, "most runs end below their best: the reason to keep the best"
    assert (f"At the end of each run the selection return was {min(final):.1f} to "
            f"{max(final):.1f}, below the run's best in {below} of 10 runs") in _prose()
