"""Rollout panels that say something for CartPole (issue 12, item 11): a constant reward
is drawn as the return so far, and one-hot choices as ticks on their rows."""

from __future__ import annotations

import numpy as np
import torch

import rltutor


def cartpole_td(steps: int = 300):
    env = rltutor.make_env("CartPole-v1", seed=0)
    policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(env), env, eps=0.5)
    with torch.no_grad():
        return rltutor.rollout(env, policy, steps=steps, exploration="random", seed=0,
                               break_when_done=False)


def test_constant_reward_is_drawn_as_the_return_so_far():
    td = cartpole_td()
    fig = rltutor.plot_rollout(td)
    y = fig.reward_line.get_ydata()
    assert "return so far" in fig.ax_reward.get_ylabel()
    assert len(set(np.round(y, 3))) > 5  # not a flat line of ones any more
    ends = td["next", "done"].squeeze(-1).nonzero().flatten().tolist()
    assert ends and y[ends[0]] == ends[0] + 1  # the first episode's length, at its end
    assert y[ends[0] + 1] == 1.0  # and a new episode starts counting again


def test_varying_reward_is_drawn_as_is():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    with torch.no_grad():
        td = rltutor.rollout(env, rltutor.make_actor(env), steps=20, seed=0)
    fig = rltutor.plot_rollout(td)
    assert fig.ax_reward.get_ylabel() == "reward"
    np.testing.assert_allclose(fig.reward_line.get_ydata(), td["next", "reward"][:, 0])


def test_one_hot_choices_are_ticks_not_a_solid_block():
    fig = rltutor.plot_rollout(cartpole_td())
    line = fig.action_lines[0]
    assert line.get_linestyle() == "None" and line.get_marker() == "|"
