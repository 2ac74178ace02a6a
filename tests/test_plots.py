"""plot_rollout: a Figure drawn once, updated in place, never registered with pyplot."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from test_rollouts import composite_actor, egreedy_qvalue, mlp_actor, pendulums

from rltutor.envs import make_env
from rltutor.plots import RolloutFigure, plot_rollout, rollout_series
from rltutor.rollouts import rollout

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pendulum_td():
    with torch.no_grad():  # data to draw, no graph
        return rollout(make_env(), mlp_actor(), steps=40, seed=0)


@pytest.fixture(scope="module")
def cartpole_td():
    env = make_env("CartPole-v1")
    policy, _ = egreedy_qvalue(env, eps=0.5)
    return rollout(env, policy, steps=80, exploration="random", seed=0, break_when_done=False)


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
    assert s.actions[0].discrete and s.actions[0].num_actions == 2
    np.testing.assert_array_equal(s.actions[0].values, cartpole_td["action"].argmax(-1).numpy())
    # action_value in the td lets the plot find e-greedy's off-greedy steps
    best = cartpole_td["action_value"].argmax(-1).numpy()
    np.testing.assert_array_equal(s.explored, s.actions[0].values != best)
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
    }, batch_size=[4])
    s = rollout_series(td)
    assert s.actions[0].discrete and s.actions[0].num_actions == 3
    np.testing.assert_array_equal(s.actions[0].values, [0, 2, 1, 2])
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


@pytest.fixture(scope="module")
def batched_td():
    env = pendulums(3)
    return rollout(env, mlp_actor(), steps=30)


def test_batched_rollout_draws_every_env(batched_td):
    assert batched_td.batch_size == (3, 30)
    s = rollout_series(batched_td)
    assert s.batched and s.num_envs == 3 and s.reward.shape == (3, 30)
    fig = plot_rollout(batched_td)
    assert len(fig.reward_lines) == 3 and len(fig._obs) == 3 and len(fig._acts) == 3
    for b, line in enumerate(fig.reward_lines):
        np.testing.assert_allclose(line.get_ydata(), batched_td["next", "reward"][b, :, 0])
        np.testing.assert_allclose(fig._obs[b][1].get_ydata(), batched_td["observation"][b, :, 1])
    # env 0 in full, the others faint; the legend says which is which
    assert fig.reward_lines[0].get_alpha() is None and fig.reward_lines[2].get_alpha() < 1
    labels = [t.get_text() for t in fig.ax_reward.get_legend().get_texts()]
    assert labels == ["env 0", "envs 1–2 (faint)"]
    assert fig.to_png().startswith(PNG_MAGIC)


def test_batched_explored_and_done(batched_td):
    explored = torch.zeros(3, 30, dtype=torch.bool)
    explored[0, 5] = explored[2, [1, 2]] = True
    td = batched_td.clone()
    td["next", "done"][1, 10] = True  # another env's episode end is not marked ...
    td["next", "done"][0, 20] = True  # ... env 0's is
    fig = plot_rollout(td, explored=explored)
    np.testing.assert_array_equal(fig.explored_line.get_xdata(), [5])
    np.testing.assert_array_equal(fig._explored_others[0].get_xdata(), [1, 2])
    np.testing.assert_array_equal(fig.done_lines[0].get_xdata()[0::3], [20])
    with pytest.raises(ValueError, match=r"one entry per step \(shape \(3, 30\)\)"):
        plot_rollout(batched_td, explored=torch.zeros(30, dtype=torch.bool))


def test_number_of_envs_changes_rebuild_same_number_updates_in_place(batched_td, pendulum_td):
    fig = plot_rollout(batched_td)
    line = fig.reward_lines[1]
    fig.update(batched_td[:, :20])
    assert fig.reward_lines[1] is line and len(line.get_xdata()) == 20
    fig.update(pendulum_td)
    assert len(fig.reward_lines) == 1 and fig.ax_reward.get_legend() is None
    fig.update(batched_td[:2])
    assert len(fig.reward_lines) == 2
    np.testing.assert_array_equal(fig.draw_rgba(), fig.draw_rgba(reuse_background=False))
    assert plt.get_fignums() == []


def test_more_batch_dims_are_flattened(batched_td):
    td = torch.stack([batched_td, batched_td], 0)  # [2, 3, 30]
    s = rollout_series(td)
    assert s.num_envs == 6 and s.observation.shape == (6, 30, 3)


@pytest.fixture(scope="module")
def puck():
    from rltutor.addons.toy_envs import PuckEnv

    env = PuckEnv(seed=0)
    return env, composite_actor(env)


def test_composite_action_one_panel_per_part(puck):
    env, actor = puck
    td = rollout(env, actor, steps=40, exploration="random")
    s = rollout_series(td)
    assert [a.name for a in s.actions] == ["direction", "force"]  # no log-prob leaves
    direction, force = s.actions
    assert direction.discrete and not force.discrete and force.values.shape == (40, 1)
    np.testing.assert_array_equal(direction.values, td["action", "direction"].numpy())
    fig = plot_rollout(td, env=env)
    assert len(fig.ax_actions) == 2 and len(fig.axes) == 4
    assert [ax.get_ylabel() for ax in fig.ax_actions] == ["direction", "force"]
    assert list(fig.ax_actions[0].get_yticks()) == [0, 1]  # choices from the env's spec
    np.testing.assert_allclose(fig.action_lines[1].get_ydata(), td["action", "force"][:, 0])
    assert fig.get_size_inches()[1] > plot_rollout(rollout(make_env(), mlp_actor(), steps=5)
                                                   ).get_size_inches()[1]
    legend = [t.get_text() for t in fig.ax_obs.get_legend().get_texts()]
    assert legend == ["position", "velocity", "target"]


def test_composite_explored_marked_per_part(puck):
    env, actor = puck
    td = rollout(env, actor, steps=30, exploration="deterministic")
    greedy = td["action"].clone()
    greedy["direction"][[3, 7]] = 1 - greedy["direction"][[3, 7]]
    greedy["force"][12] += 0.5
    explored = torch.zeros(30, dtype=torch.bool)
    explored[[3, 7, 12]] = True
    fig = plot_rollout(td, explored=explored, greedy_action=greedy)
    np.testing.assert_array_equal(fig._explored[0].get_xdata(), [3, 7])  # direction
    np.testing.assert_array_equal(fig._explored[1].get_xdata(), [12])  # force
    assert all(line.get_visible() for line in fig.greedy_lines)


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
        "cos θ", "sin θ", "ω (angular velocity)"]
    assert legend(plot_rollout(cartpole_td, env=make_env("CartPole-v1")))[2] == "pole angle"
    assert legend(plot_rollout(pendulum_td, observation_names=["a"])) == ["a", "obs[1]", "obs[2]"]
    with pytest.raises(ValueError, match="list of names"):
        plot_rollout(pendulum_td, observation_names="abc")


def test_plot_rollout_names_observations_by_the_explorers_rule():
    # one rule (rltutor.envs.observation_names through names_for): a lesson's plot given
    # env= carries the names the explorer's figure shows for the same env
    from rltutor import explorer

    env = make_env("CartPole-v1", seed=0)
    policy, _ = egreedy_qvalue(env, eps=0.5)
    panel = explorer(env, policy, controls=("seed",), steps=30)

    def legend(fig):
        return [t.get_text() for t in fig.ax_obs.get_legend().get_texts()]

    td = rollout(env, policy, steps=30, exploration="random", seed=0, break_when_done=False)
    assert legend(plot_rollout(td, env=env)) == legend(panel.figure)
    assert legend(panel.figure) == ["cart position", "cart velocity", "pole angle",
                                    "pole angular velocity"]
    assert legend(plot_rollout(td))[2] == "obs[2]"  # no env, no names: only indices
