"""What lesson 14 says holds: its settings are the benchmark script's, the committed seed
table was written by that script with those settings, and what the prose says about
exploration, alpha and the seeds holds in that table (and, where cheap, for seeds 0-9).

Each prose test finds its sentence in the lesson, so prose and check cannot drift apart.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.modules import MLP, AdditiveGaussianModule, TanhModule

from rltutor.addons.offpolicy_probes import action_spread, pendulum_observations
from rltutor.envs import make_env

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "14_sac_vs_td3.py"
RESULTS = json.loads((ROOT / "benchmarks" / "offpolicy_results.json").read_text())
SEEDS = range(10)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_offpolicy",
                                                  ROOT / "benchmarks" / "bench_offpolicy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def prose() -> str:
    """The lesson's markdown, comment marks and line breaks removed (one long line)."""
    return re.sub(r"\s+", " ", re.sub(r"(?m)^# ?", "", LESSON.read_text()))


def lesson_constants() -> dict:
    """The lesson's top-level NAME = literal assignments (tuples unpacked)."""
    found = {}
    for node in ast.parse(LESSON.read_text()).body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            continue
        if isinstance(target, ast.Name):
            found[target.id] = value
        elif isinstance(target, ast.Tuple):
            found.update({t.id: v for t, v in zip(target.elts, value, strict=True)})
    return found


def runs(agent: str) -> list[dict]:
    return [r for r in RESULTS["runs"] if r["agent"] == agent]


# ------------------------------------------------------- the table is the script's


def test_committed_results_were_written_with_the_scripts_settings():
    assert RESULTS["config"] == BENCH.CONFIG, (
        "benchmarks/offpolicy_results.json is stale: run "
        "`python benchmarks/bench_offpolicy.py --write` and commit it")
    assert RESULTS["seeds"] == [0, 1, 2] and len(RESULTS["seeds"]) >= 3
    c = BENCH.CONFIG
    points = list(range(c["warmup_frames"], c["total_frames"] + 1, c["eval_every"]))
    assert sorted((r["agent"], r["seed"]) for r in RESULTS["runs"]) == sorted(
        (a, s) for a in ("SAC", "TD3") for s in RESULTS["seeds"])
    for r in RESULTS["runs"]:
        assert r["frames"] == points and r["frames_total"] == c["total_frames"]
        assert len(r["selection"]) == len(r["spread"]) == len(points)
        assert len(r["alpha"]) == (len(points) if r["agent"] == "SAC" else 0)
        assert r["best_selection"] == max(r["selection"])


def test_the_lesson_trains_with_the_scripts_settings():
    c, mine = BENCH.CONFIG, lesson_constants()
    assert {k: mine[k] for k in ("NUM_ENVS", "TOTAL_FRAMES", "FRAMES_PER_BATCH",
                                 "WARMUP_FRAMES", "UPDATES_PER_FRAME", "BATCH_SIZE", "GAMMA",
                                 "TAU", "LR", "EVAL_EVERY", "POLICY_DELAY")} == {
        "NUM_ENVS": c["num_envs"],
        "TOTAL_FRAMES": c["total_frames"], "FRAMES_PER_BATCH": c["frames_per_batch"],
        "WARMUP_FRAMES": c["warmup_frames"], "UPDATES_PER_FRAME": c["updates_per_frame"],
        "BATCH_SIZE": c["batch_size"], "GAMMA": c["gamma"], "TAU": c["tau"], "LR": c["lr"],
        "EVAL_EVERY": c["eval_every"], "POLICY_DELAY": c["td3_policy_delay"]}
    code = LESSON.read_text()
    for snippet in ("make_pendulums(NUM_ENVS, seed=SEED), collecting_policy",
                    "buffer.extend(batch.reshape(-1))",
                    "autoreset_mode=gym.vector.AutoresetMode.DISABLED",f"LazyTensorStorage({c['buffer_size']:_})",
                    f"num_cells={c['num_cells']}",
                    f"sigma_init={c['td3_sigma']}, sigma_end={c['td3_sigma']}",
                    f"policy_noise={c['td3_policy_noise']}, noise_clip={c['td3_noise_clip']}",
                    f"episodes={c['selection_episodes']})",
                    f"episodes={c['held_out_episodes']})"):
        assert snippet in code, f"the lesson no longer has {snippet!r}"
    assert mine["MILESTONE"] == BENCH.MILESTONE


# ------------------------------------------------------- section 5: exploration


def test_sac_spread_narrows_and_alpha_falls_on_every_seed():
    assert "SAC starts wide" in prose() and "narrows as it learns" in prose()
    assert "alpha, the weight on \"keep sampling widely\", falls" in prose()
    for r in runs("SAC"):
        assert r["spread"][-1] < r["spread"][0] / 2, r["seed"]
        assert r["alpha"][-1] < r["alpha"][0] / 2, r["seed"]


def test_td3_spread_stays_at_or_below_its_fixed_noise():
    assert "sits at or below the 0.2 it adds" in prose()
    for r in runs("TD3"):
        assert max(r["spread"]) <= 0.21, r["seed"]
    spec = make_env("Pendulum-v1").action_spec
    for seed in SEEDS:  # untrained actors of seeds 0-9, near a bound or not
        torch.manual_seed(seed)
        actor = TensorDictSequential(
            TensorDictModule(MLP(in_features=3, out_features=1, num_cells=[64, 64]),
                             in_keys=["observation"], out_keys=["param"]),
            TanhModule(in_keys=["param"], out_keys=["action"], spec=spec))
        noisy = TensorDictSequential(
            actor, AdditiveGaussianModule(spec=spec, sigma_init=0.2, sigma_end=0.2))
        assert action_spread(noisy, pendulum_observations(32)) <= 0.21, seed


# ------------------------------------------------------- section 8: the seed table


@pytest.mark.parametrize("agent", ["SAC", "TD3"])
def test_best_checkpoint_is_reported_on_held_out_episodes(agent):
    for r in runs(agent):
        assert r["best_frames"] in r["frames"]
        assert r["held_out_best"]["min"] <= r["held_out_best"]["mean"]


def test_both_pass_the_milestone_and_td3_gets_there_sooner():
    text = prose()
    assert "both agents pass the milestone within the budget" in text
    assert ("at 3,000 frames its selection return is above −200 on two of three seeds, "
            "SAC's on none") in text
    for r in RESULTS["runs"]:
        assert r["held_out_best"]["mean"] >= BENCH.MILESTONE, (r["agent"], r["seed"])
    at = runs("SAC")[0]["frames"].index(3_000)
    above = {agent: sum(r["selection"][at] >= BENCH.MILESTONE for r in runs(agent))
             for agent in ("SAC", "TD3")}
    assert len(RESULTS["seeds"]) == 3 and above == {"SAC": 0, "TD3": 2}


def test_the_best_checkpoint_is_the_last_on_every_run():
    assert "On every run the best checkpoint is the last one" in prose()
    for r in RESULTS["runs"]:
        assert r["best_frames"] == BENCH.CONFIG["total_frames"], (r["agent"], r["seed"])


def test_td3_noise_is_a_twentieth_of_the_torque_range():
    assert "(0.2, a twentieth of the torque range)" in prose()
    spec = make_env("Pendulum-v1").action_spec
    assert BENCH.CONFIG["td3_sigma"] * 20 == pytest.approx(
        float(spec.space.high - spec.space.low))
