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


def test_data_only_redraw_matches_full_draw(pendulum_td):
    fig = plot_rollout(pendulum_td)
    fig.to_png()
    background = fig._background
    other = pendulum_td.clone()
    other["observation"] = other["observation"] * 0.9  # new data, within the same limits
    fig.update(other)
    limits_kept = fig._background_key == fig._layout_key()
    fast = fig.draw_rgba().copy()
    assert limits_kept and fig._background is background  # the saved background was reused
    full = fig.draw_rgba(reuse_background=False).copy()
    np.testing.assert_array_equal(fast, full)
    # the data lines are really drawn on top of the background
    assert (fast != np.asarray(background)).any()


def test_background_redrawn_when_layout_changes(pendulum_td):
    fig = plot_rollout(pendulum_td)
    fig.to_png()
    key = fig._background_key
    fig.update(pendulum_td, title="another title")
    fig.to_png()
    assert fig._background_key != key and fig._background_key[4] == "another title"
    # data far outside the current limits moves them, and the background follows
    big = pendulum_td.clone()
    big["observation"] = big["observation"] * 100
    fig.update(big)
    lo, hi = fig.ax_obs.get_ylim()
    assert lo <= float(big["observation"].min()) and hi >= float(big["observation"].max())
    np.testing.assert_array_equal(fig.draw_rgba(), fig.draw_rgba(reuse_background=False))


def test_stable_limits():
    from rltutor.plots import stable_limits

    assert stable_limits((-1.0, 1.0), (-0.9, 0.5)) == (-1.0, 1.0)  # fits: kept
    lo, hi = stable_limits((-1.0, 1.0), (-0.9, 1.5))  # leaves: padded data range
    assert lo < -0.9 and hi > 1.5 and hi - lo < 3
    lo, hi = stable_limits((-10.0, 10.0), (-0.5, 0.5))  # fills too little: zoom in
    assert -1 < lo < -0.5 and 0.5 < hi < 1
    assert stable_limits(None, (2.0, 2.0))[0] < 2.0 < stable_limits(None, (2.0, 2.0))[1]
    assert stable_limits(None, None) == (-1.0, 1.0)


def test_encode_png_round_trip():
    import io

    from PIL import Image

    from rltutor.plots import encode_png

    rgb = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    png = encode_png(rgb)
    assert png.startswith(PNG_MAGIC)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), rgb)
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        encode_png(np.zeros((2, 2, 4), np.uint8))


def test_png_decodes_to_the_drawn_figure(pendulum_td):
    import io

    from PIL import Image

    fig = plot_rollout(pendulum_td)
    png = fig.to_png()
    decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    np.testing.assert_array_equal(decoded, np.asarray(fig.canvas.buffer_rgba())[..., :3])


def test_observation_names(pendulum_td, cartpole_td):
    def legend(fig):
        return [t.get_text() for t in fig.ax_obs.get_legend().get_texts()]

    assert legend(plot_rollout(pendulum_td)) == ["obs[0]", "obs[1]", "obs[2]"]
    assert legend(plot_rollout(pendulum_td, env=make_env())) == [
        "cos θ", "sin θ", "ω (angular velocity)"]  # fmt: skip
    assert legend(plot_rollout(cartpole_td, env=make_env("CartPole-v1")))[2] == "pole angle"
    assert legend(plot_rollout(pendulum_td, observation_names=["a"])) == ["a", "obs[1]", "obs[2]"]
    with pytest.raises(ValueError, match="list of names"):
        plot_rollout(pendulum_td, observation_names="abc")
