"""Lesson 13's claims: its results file is the script's, and what the lesson says holds.

The seed table and curves the lesson draws come from ``benchmarks/ppo_results.json``,
written by ``python benchmarks/bench_ppo.py --write``. These tests check that the file
was made with the script's configuration (and the lesson's settings), and that each
sentence the lesson says about those results, or about the shared trunk, is true for every
seed (seeds 0-9 where the claim is cheap to re-run).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
import torch
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_ppo  # noqa: E402

LESSON = ROOT / "lessons" / "13_ppo_pendulum.py"
RESULTS = json.loads(bench_ppo.RESULTS.read_text())
CONFIG = bench_ppo.CONFIG
SEEDS = range(10)


def prose() -> str:
    """The lesson's text, comment marks and line breaks removed (one long line)."""
    return re.sub(r"\s+", " ", re.sub(r"(?m)^# ?", "", LESSON.read_text()))


def lesson_constant(name: str):
    """The value a lesson line ``NAME = value`` (or ``A, NAME = a, value``) assigns."""
    for line in LESSON.read_text().splitlines():
        match = re.match(r"^([A-Z_, ]+?)\s*=\s*([^#]+)", line)
        if match:
            names = [n.strip() for n in match.group(1).split(",")]
            if name in names:
                values = ast.literal_eval(match.group(2).strip())
                return values[names.index(name)] if len(names) > 1 else values
    raise AssertionError(f"the lesson assigns no {name}")


# ------------------------------------------------------------- the results file itself


def test_results_file_matches_the_scripts_config():
    assert RESULTS["config"] == CONFIG
    assert RESULTS["seeds"] == list(bench_ppo.SEEDS)
    assert RESULTS["variants"] == bench_ppo.VARIANTS
    assert list(RESULTS["runs"]) == ["lesson", *bench_ppo.VARIANTS]
    evals = list(range(CONFIG["eval_every"], CONFIG["total_frames"] + 1, CONFIG["eval_every"]))
    for name, runs in RESULTS["runs"].items():
        assert [r["seed"] for r in runs] == list(bench_ppo.SEEDS), name
        for r in runs:
            assert r["frames"] == CONFIG["total_frames"]
            assert r["eval_frames"] == evals
            assert len(r["greedy_return"]) == len(evals)
            assert len(r["sampled_return"]) == CONFIG["total_frames"] // CONFIG["frames_per_batch"]
            assert len(r["held_out_returns"]) == CONFIG["held_out_episodes"]
            assert r["held_out_mean"] == pytest.approx(
                sum(r["held_out_returns"]) / len(r["held_out_returns"]), abs=0.01)
            assert r["held_out_min"] == min(r["held_out_returns"])
            assert r["best_selection_return"] == max(r["greedy_return"])
            assert r["best_frames"] == evals[r["greedy_return"].index(max(r["greedy_return"]))]


def test_lesson_settings_are_the_scripts():
    pairs = {"NUM_ENVS": "num_envs", "FRAMES_PER_BATCH": "frames_per_batch",
             "TOTAL_FRAMES": "total_frames", "EPOCHS": "epochs", "MINIBATCH": "minibatch",
             "GAMMA": "gamma", "LMBDA": "lmbda", "CLIP_EPSILON": "clip_epsilon",
             "REWARD_SCALE": "reward_scale", "EVAL_EVERY": "eval_every"}
    for constant, key in pairs.items():
        assert lesson_constant(constant) == CONFIG[key], constant
    code = LESSON.read_text()
    assert "lr=1e-3" in code and CONFIG["lr"] == 1e-3
    for literal in (f"critic_coeff={CONFIG['critic_coeff']}",
                    f"max_norm={CONFIG['max_grad_norm']}", f"out_features={CONFIG['hidden']}",
                    "normalize_advantage=True", "entropy_bonus=False", 'loss_critic_type="l2"',
                    "episodes=5, seed=1_000", "episodes=20, seed=10_000"):
        assert literal in code, literal
    assert CONFIG["shared_trunk"] and CONFIG["normalize_advantage"]
    assert CONFIG["selection_seed"] == 1_000 and CONFIG["held_out_seed"] == 10_000


# --------------------------------------------------- what the lesson says about the trunk


def _agent_and_batch(seed: int):
    env = bench_ppo.make_train_env({**CONFIG, "num_envs": 2}, seed)
    torch.manual_seed(seed)
    agent = bench_ppo.make_agent(env.action_spec_unbatched, hidden=64, shared_trunk=True)
    policy, value = agent.get_policy_operator(), agent.get_value_operator()
    with torch.no_grad():
        batch = GAE(gamma=0.9, lmbda=0.95, value_network=value)(env.rollout(64, policy))
    return agent, batch


def _trunk_grad(agent, loss_fn, term, batch) -> float:
    agent.zero_grad()
    terms = loss_fn(batch.reshape(-1).clone())
    grads = torch.autograd.grad(terms[term], list(agent.module[0].parameters()),
                                allow_unused=True)
    return sum(0.0 if g is None else g.norm().item() ** 2 for g in grads) ** 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_separate_losses_cuts_the_critic_off_the_trunk_and_the_optimizer_steps_it_once(seed):
    assert "`separate_losses=True` cuts the critic off the shared part" in prose()
    agent, batch = _agent_and_batch(seed)
    policy, value = agent.get_policy_operator(), agent.get_value_operator()
    shared = ClipPPOLoss(policy, value, loss_critic_type="l2")
    cut = ClipPPOLoss(policy, value, loss_critic_type="l2", separate_losses=True)
    assert _trunk_grad(agent, shared, "loss_critic", batch) > 0
    assert _trunk_grad(agent, cut, "loss_critic", batch) == 0
    assert _trunk_grad(agent, cut, "loss_objective", batch) > 0
    count = lambda ps: sum(p.numel() for p in ps)  # noqa: E731
    assert count(shared.parameters()) == count(agent.parameters()) < (
        count(policy.parameters()) + count(value.parameters()))


@pytest.mark.parametrize("seed", SEEDS)
def test_unscaled_rewards_shrink_the_policys_share_of_the_trunks_gradient(seed):
    assert "trunk its gradient drowns the policy's" in prose()
    agent, batch = _agent_and_batch(seed)
    policy, value = agent.get_policy_operator(), agent.get_value_operator()
    loss_fn = ClipPPOLoss(policy, value, loss_critic_type="l2", critic_coeff=0.5,
                          entropy_bonus=False, normalize_advantage=True)
    shares = []
    for times in (1.0, 10.0):
        scaled = batch.clone()
        scaled["next", "reward"] *= times
        with torch.no_grad():
            GAE(gamma=0.9, lmbda=0.95, value_network=value)(scaled)
        critic = _trunk_grad(agent, loss_fn, "loss_critic", scaled)
        objective = _trunk_grad(agent, loss_fn, "loss_objective", scaled)
        shares.append(critic / (critic + objective))
    assert shares[1] > shares[0]
    assert shares[1] > 0.9


# ---------------------------------------------- what the lesson says about the seed table


def test_greedy_beats_sampled_at_every_evaluation_on_every_seed():
    text = prose()
    assert "At first both are below -1,000" in text
    assert "the greedy return is the higher one at every evaluation" in text
    batch = CONFIG["frames_per_batch"]
    for r in RESULTS["runs"]["lesson"]:
        sampled = [r["sampled_return"][f // batch - 1] for f in r["eval_frames"]]
        assert sampled[0] < -1000 and r["greedy_return"][0] < -1000, r["seed"]
        assert all(g > s for g, s in zip(r["greedy_return"], sampled, strict=True)), r["seed"]


def test_every_lesson_seed_passes_the_milestone_and_separate_networks_two_of_three():
    assert ("All three seeds of the shared trunk pass the milestone on their held-out "
            "episodes; separate networks pass it on two of the three") in prose()
    assert all(r["held_out_mean"] >= -200 for r in RESULTS["runs"]["lesson"])
    separate = [r["held_out_mean"] >= -200 for r in RESULTS["runs"]["separate networks"]]
    assert sum(separate) == 2


def test_leaving_normalisation_out_costs_what_the_lesson_says():
    text = prose()
    assert "Without reward scaling every seed's held-out mean stays below -600" in text
    assert ("without advantage normalisation the runs still learn, but two of the three "
            "seeds end below the milestone") in text
    unscaled = RESULTS["runs"]["no reward scaling"]
    assert all(r["held_out_mean"] < -600 for r in unscaled)
    raw_advantages = RESULTS["runs"]["no advantage normalisation"]
    assert sum(r["held_out_mean"] < -200 for r in raw_advantages) == 2
    assert all(r["greedy_return"][-1] > r["greedy_return"][0] + 500 for r in raw_advantages)
