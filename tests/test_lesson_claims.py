"""What lessons 01-07 say a widget shows holds for every value the widget offers.

Each test rebuilds a lesson's policy, sweeps the control its prose talks about (seeds
0-9, the epsilon slider, ...) through the same code the widget runs, and checks the
sentence the lesson prints about it. Each test also finds that sentence in the lesson,
so prose and check cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.modules import EGreedyModule, QValueModule

import rltutor

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
SEEDS = range(10)


def prose(lesson: str) -> str:
    """The lesson's markdown, comment marks and line breaks removed (one long line)."""
    text = (LESSONS / f"{lesson}.py").read_text()
    return re.sub(r"\s+", " ", re.sub(r"(?m)^# ?", "", text))


def sweep(panel, name: str, values) -> dict:
    """Move one control of an explorer through ``values``; stats per value."""
    out = {}
    for value in values:
        panel.controls[name].value = value
        assert panel.last_error is None, panel.last_error
        out[value] = dict(panel.stats)
    return out


# ------------------------------------------------------------------ lesson 05


@pytest.fixture(scope="module")
def balancer_panel():
    env = rltutor.make_env("CartPole-v1", seed=0)
    by_hand = nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        by_hand.weight.copy_(torch.tensor([[0.0, 0.0, -1.0, -0.5], [0.0, 0.0, 1.0, 0.5]]))
    balancer = TensorDictSequential(
        TensorDictModule(by_hand, in_keys=["observation"], out_keys=["action_value"]),
        QValueModule(spec=env.action_spec))
    explorative = TensorDictSequential(
        balancer, EGreedyModule(spec=env.action_spec, eps_init=0.5, eps_end=0.5))
    return rltutor.explorer(env, explorative, controls=("epsilon", "exploration", "seed",
                                                        "steps"), steps=300)


def _episode_ends(panel, eps: float) -> list[int]:
    panel.controls["epsilon"].value = eps
    return [stats["episodes_ended"] for stats in sweep(panel, "seed", SEEDS).values()]


def test_lesson05_episode_ends_per_epsilon_across_seeds(balancer_panel):
    text = prose("05_q_value_actors")
    assert ("Across seeds 0-9: up to eps = 0.1 the pole never falls in the 300 steps; at 0.5 "
            "it falls 0 to 3 times") in text
    assert "from 0.7 on it falls at least 3 times, and at eps = 1" in text
    assert "7 to 18 times" in text
    panel = balancer_panel
    panel.controls["exploration"].value = "random"
    assert max(_episode_ends(panel, 0.1)) == 0  # and so below 0.1
    at_half = _episode_ends(panel, 0.5)
    assert min(at_half) == 0 and max(at_half) == 3, at_half
    # the old sentence "up to about 0.5 the pole falls at most once" is false for some seed
    assert max(at_half) > 1
    for eps in (0.7, 0.85):
        assert min(_episode_ends(panel, eps)) >= 3, eps
    at_one = _episode_ends(panel, 1.0)
    assert min(at_one) == 7 and max(at_one) == 18, at_one
    panel.controls["exploration"].value = "deterministic"
    assert max(_episode_ends(panel, 1.0)) == 0
    panel.controls["exploration"].value = "random"


# ------------------------------------------------------------------ lesson 04


def test_lesson04_marked_share_follows_epsilon_for_every_seed():
    text = prose("04_exploration_modules")
    assert "for every seed from 0 to 9, the share of marked steps" in text
    assert "stays within 0.1 of epsilon" in text
    env = rltutor.make_env("Pendulum-v1", seed=0)
    policy = rltutor.make_actor(env, num_cells=(32,), seed=0)
    explorative = TensorDictSequential(
        policy, EGreedyModule(spec=env.action_spec, eps_init=0.3, eps_end=0.3))
    panel = rltutor.explorer(env, explorative, controls=("epsilon", "exploration", "seed"))
    for eps in (0.0, 0.25, 0.75, 1.0):
        panel.controls["epsilon"].value = eps
        shares = [s["explored_fraction"] for s in sweep(panel, "seed", SEEDS).values()]
        assert max(abs(share - eps) for share in shares) <= 0.1, (eps, shares)
    panel.controls["exploration"].value = "deterministic"
    shares = [s["explored_fraction"] for s in sweep(panel, "seed", SEEDS).values()]
    assert max(shares) == 0.0


# ------------------------------------------------------------------ lesson 03


def test_lesson03_mean_is_pulled_towards_zero_for_every_seed():
    from tensordict.nn import NormalParamExtractor
    from torchrl.modules import MLP, ProbabilisticActor, TanhNormal

    from rltutor.rollouts import deterministic_actions

    text = prose("03_probabilistic_policies")
    assert ("for every seed from 0 to 9, wherever the deterministic torque is larger than 0.2 "
            "in size, the MEAN torque is smaller in size") in text
    torch.manual_seed(0)
    env = rltutor.make_env("Pendulum-v1", seed=0)
    backbone = TensorDictModule(
        nn.Sequential(MLP(out_features=2, num_cells=[64, 64]), NormalParamExtractor()),
        in_keys=["observation"], out_keys=["loc", "scale"])
    spec = env.action_spec
    actor = ProbabilisticActor(
        backbone, in_keys=["loc", "scale"], spec=spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": spec.space.low, "high": spec.space.high})
    panel = rltutor.explorer(env, actor, controls=("exploration", "seed"))
    panel.controls["exploration"].value = "mean"
    for seed in SEEDS:
        panel.controls["seed"].value = seed
        td = panel.rollout_td
        suggested = deterministic_actions(actor, td)
        big = suggested.abs() > 0.2
        assert big.sum() > 10, seed  # the sentence is about something visible
        assert (td["action"].abs() < suggested.abs())[big].all(), seed
        assert not torch.equal(td["action"], suggested)  # an estimate, not the formula


# ------------------------------------------------------------------ lesson 07


def test_lesson07_sampled_pushes_flicker_deterministic_ones_repeat_for_every_seed():
    from tensordict.nn import CompositeDistribution, NormalParamExtractor
    from torch import distributions as d
    from torchrl.envs import ExplorationType, set_exploration_type
    from torchrl.modules import MLP, ProbabilisticActor, TanhNormal

    from rltutor.toy_envs import PuckEnv

    text = prose("07_composite_actions")
    assert ("for every seed from 0 to 9, sampled pushes flicker left and right, while the "
            "deterministic policy repeats one direction") in text
    torch.manual_seed(0)  # the lesson's first cells, in order: the weights come out the same
    env = PuckEnv(max_steps=50, seed=0)
    env.rand_step(env.reset())
    body = TensorDictModule(MLP(in_features=3, out_features=32, num_cells=[32]),
                            in_keys=["observation"], out_keys=["hidden"])
    heads = [TensorDictModule(nn.Linear(32, 2), in_keys=["hidden"],
                              out_keys=[("params", "direction", "logits")]),
             TensorDictModule(nn.Sequential(nn.Linear(32, 2), NormalParamExtractor()),
                              in_keys=["hidden"], out_keys=[("params", "force", "loc"),
                                                            ("params", "force", "scale")])]
    actor = ProbabilisticActor(
        TensorDictSequential(body, *heads), in_keys=["params"],
        out_keys=[("action", "direction"), ("action", "force")], spec=env.full_action_spec,
        distribution_class=CompositeDistribution,
        distribution_kwargs={
            "distribution_map": {"direction": d.Categorical, "force": TanhNormal},
            "name_map": {"direction": ("action", "direction"), "force": ("action", "force")},
            "extra_kwargs": {"force": {"low": 0.0, "high": 1.0}}})
    for seed in SEEDS:  # what the lesson's puck_rollout(exploration, seed) runs
        for kind, directions in (("RANDOM", 2), ("DETERMINISTIC", 1)):
            torch.manual_seed(seed)
            env.set_seed(seed)
            with set_exploration_type(ExplorationType[kind]), torch.no_grad():
                td = env.rollout(50, actor)
            assert td["action", "direction"].unique().numel() == directions, (seed, kind)
            if seed == 0 and kind == "DETERMINISTIC":  # the lesson prints this rollout
                force = td["action", "force"]
                assert td["action", "direction"][0] == 1
                assert [round(x.item(), 3) for x in force.aminmax()] == [0.387, 0.407]


# ------------------------------------------------------------------ lesson 02


def test_lesson02_safe_keeps_every_gain_and_seed_inside_the_bounds():
    import matplotlib

    matplotlib.use("Agg")
    from torchrl.envs import GymEnv
    from torchrl.modules import MLP, Actor

    text = prose("02_actors_and_networks")
    assert ("Across seeds 0-9: at gain 1 no network asks for more than 0.7; at gain 50, with "
            "safe off, nine seeds of ten ask for more than 2 (seed 4 stays quiet); with safe "
            "on, the written action never leaves [-2, 2], at any gain and seed") in text
    env = GymEnv("Pendulum-v1")

    def largest(gain: float, safe: bool, seed: int) -> tuple[float, float]:
        # the lesson's loud_actor_torques, without the figure
        torch.manual_seed(seed)
        mlp = MLP(out_features=1, num_cells=[64, 64])
        actor = Actor(mlp, spec=env.action_spec, safe=safe)
        actor(env.reset())
        with torch.no_grad():
            mlp[-1].weight.mul_(gain)
            env.set_seed(seed)
            td = env.rollout(200, actor)
            raw = mlp(td["observation"])
        return td["action"].abs().max().item(), raw.abs().max().item()

    assert max(largest(1, False, s)[0] for s in SEEDS) <= 0.7
    loud = [largest(50, False, s)[0] for s in SEEDS]
    assert sum(x > 2 for x in loud) == 9 and loud[4] <= 2, loud
    for gain in (1, 25, 50):  # the slider's ends and middle
        written = [largest(gain, True, s) for s in SEEDS]
        assert max(w for w, _ in written) <= 2.0 + 1e-6, gain
    assert max(raw for _, raw in written) > 2  # safe had something to clip


# ------------------------------------------------------------------ lesson 01 (issue 20)


# ------------------------------------------------------------------ lesson 06 (issue 20)


# ------------------------------------------------------------------ lessons 08-10 (issue 20)


# ------------------------------------------------------------------ lessons 11-12 (issue 20)
