"""A probabilistic policy's explorer picture: the deterministic action and a 5-95 % band
of the distribution, not a red mark on every sample (issue 12, item 7)."""

from __future__ import annotations

import torch

import rltutor
from rltutor._action_band import action_band


def test_band_holds_about_90_percent_of_fresh_samples_and_respects_the_bounds():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    actor = rltutor.make_gaussian_actor(env)  # TanhNormal in [-2, 2]
    with torch.no_grad():
        td = rltutor.rollout(env, actor, steps=100, exploration="random", seed=0)
    low, high = action_band(actor, td)
    assert low.shape == td["action"].shape and (low < high).all()
    assert low.min() >= -2 and high.max() <= 2  # through the tanh: inside the bounds
    inside = ((td["action"] >= low) & (td["action"] <= high)).float().mean().item()
    assert 0.8 <= inside <= 0.97, inside  # the samples taken fall in it about 90 % of the time
    assert torch.equal(action_band(actor, td)[0], low)  # same band every call


def test_no_band_where_there_is_no_distribution_to_draw():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    det = rltutor.make_actor(env)
    assert action_band(det, rltutor.rollout(env, det, steps=3, seed=0)) is None
    cartpole = rltutor.make_env("CartPole-v1", seed=0)
    categorical = rltutor.make_categorical_actor(cartpole)
    td = rltutor.rollout(cartpole, categorical, steps=3, exploration="random", seed=0)
    assert action_band(categorical, td) is None  # discrete: the index plot says it all


def test_explorer_draws_the_band_and_no_marks_for_a_sampling_actor():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    panel = rltutor.explorer(env, rltutor.make_gaussian_actor(env), controls=("exploration",))
    panel.controls["exploration"].value = "random"
    assert panel.stats["explored_fraction"] == 0.0  # the old explorer marked every step
    assert len(panel.figure.explored_line.get_xdata()) == 0
    band = panel.figure._band_lines
    assert all(len(line.get_xdata()) == 200 for line in band)
    assert panel.figure.greedy_lines[0].get_visible()  # the deterministic action beside it
    panel.controls["exploration"].value = "deterministic"
    assert all(len(line.get_xdata()) == 0 for line in band)


def test_explorer_keeps_marks_where_a_module_replaced_the_action():
    env = rltutor.make_env("CartPole-v1", seed=0)
    policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(env), env, eps=0.5)
    panel = rltutor.explorer(env, policy, controls=("epsilon", "seed"))
    assert 0.1 < panel.stats["explored_fraction"] < 0.5
    assert len(panel.figure.explored_line.get_xdata()) > 0
