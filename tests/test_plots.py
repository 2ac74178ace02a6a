"""plot_rollout: a Figure drawn once, updated in place, never registered with pyplot."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from test_rollouts import egreedy_qvalue, mlp_actor

from rltutor.envs import make_env
from rltutor.plots import RolloutFigure, plot_rollout, rollout_series
from rltutor.rollouts import rollout

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pendulum_td():
    return rollout(make_env(), mlp_actor(), steps=40)


@pytest.fixture(scope="module")
def cartpole_td():
    env = make_env("CartPole-v1")
    policy, _ = egreedy_qvalue(env, eps=0.5)
    return rollout(env, policy, steps=80, exploration="random")


def test_plot_rollout_returns_figure_not_in_pyplot(pendulum_td):
    before = plt.get_fignums()
    fig = plot_rollout(pendulum_td)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before == []
    png = fig.to_png()
    assert png.startswith(PNG_MAGIC)
    assert fig._repr_png_().startswith(PNG_MAGIC)
    assert plt.get_fignums() == []


def test_plot_rollout_draws_the_data(pendulum_td):
    fig = plot_rollout(pendulum_td, title="pendulum")
    obs = pendulum_td["observation"].numpy()
    assert len(fig.obs_lines) == 3
    np.testing.assert_allclose(fig.obs_lines[2].get_ydata(), obs[:, 2])
    np.testing.assert_allclose(fig.action_lines[0].get_ydata(), pendulum_td["action"][:, 0])
    np.testing.assert_allclose(fig.reward_line.get_ydata(),
                               pendulum_td["next", "reward"][:, 0])
    assert fig.get_suptitle() == "pendulum"
    assert not fig.greedy_lines[0].get_visible()  # nothing explored, nothing to compare


def test_discrete_actions_shown_as_index_and_explored_marked(cartpole_td):
    s = rollout_series(cartpole_td)
    assert s.discrete and s.num_actions == 2
    np.testing.assert_array_equal(s.action, cartpole_td["action"].argmax(-1).numpy())
    # action_value in the td lets the plot find e-greedy's off-greedy steps
    best = cartpole_td["action_value"].argmax(-1).numpy()
    np.testing.assert_array_equal(s.explored, s.action != best)
    assert 0 < s.explored.sum() < len(s.explored)
    fig = plot_rollout(cartpole_td)
    assert len(fig.explored_line.get_xdata()) == s.explored.sum()
    assert list(fig.ax_action.get_yticks()) == [0, 1]
    labels = [t.get_text() for t in fig.ax_action.get_legend().get_texts()]
    assert labels == ["action taken", "deterministic action", "exploratory step"]


def test_integer_actions_are_discrete():
    from tensordict import TensorDict

    td = TensorDict({
        "action": torch.tensor([0, 2, 1, 2]),
        "observation": torch.zeros(4, 2),
        "next": {"reward": torch.ones(4, 1), "done": torch.tensor([[False]] * 3 + [[True]])},
    }, batch_size=[4])  # fmt: skip
    s = rollout_series(td)
    assert s.discrete and s.num_actions == 3
    np.testing.assert_array_equal(s.action, [0, 2, 1, 2])
    fig = plot_rollout(td)
    x = fig.done_lines[0].get_xdata()
    assert x[0] == x[1] == 3  # one vertical mark at the done step


def test_done_marked(cartpole_td):
    fig = plot_rollout(cartpole_td)
    dones = np.flatnonzero(cartpole_td["next", "done"][:, 0].numpy())
    x = fig.done_lines[0].get_xdata()
    np.testing.assert_array_equal(x[0::3], dones)


def test_explored_option_marks_steps(pendulum_td):
    explored = torch.zeros(40, dtype=torch.bool)
    explored[[3, 10]] = True
    fig = plot_rollout(pendulum_td, explored=explored, greedy_action=pendulum_td["action"] * 0)
    np.testing.assert_array_equal(fig.explored_line.get_xdata(), [3, 10])
    assert fig.greedy_lines[0].get_visible()


def test_explored_wrong_length(pendulum_td):
    with pytest.raises(ValueError, match="one entry per step"):
        plot_rollout(pendulum_td, explored=torch.zeros(3, dtype=torch.bool))


def test_missing_action():
    from tensordict import TensorDict

    with pytest.raises(ValueError, match="'action' entry"):
        plot_rollout(TensorDict({"x": torch.zeros(3)}, batch_size=[3]))


def test_update_in_place(pendulum_td, cartpole_td):
    fig = plot_rollout(pendulum_td)
    axes, line, reward = list(fig.axes), fig.obs_lines[0], fig.reward_line
    fig.to_png()
    other = rollout(make_env(), mlp_actor(seed=1), steps=60, seed=5)
    assert fig.update(other) is fig
    assert fig.axes == axes and fig.obs_lines[0] is line and fig.reward_line is reward
    np.testing.assert_allclose(line.get_ydata(), other["observation"][:, 0])
    assert fig.ax_obs.get_xlim() == (0, 59)
    # a rollout with another layout rebuilds the axes but keeps the Figure
    assert fig.update(cartpole_td) is fig and len(fig.obs_lines) == 4
    assert plt.get_fignums() == []


def test_batched_rollout_draws_first_trajectory(pendulum_td):
    batched = torch.stack([pendulum_td, pendulum_td], 0)
    fig = RolloutFigure(batched)
    assert len(fig.reward_line.get_xdata()) == 40
