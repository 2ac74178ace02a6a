"""A probabilistic policy's explorer picture: the deterministic action and a 5-95 % band
of the distribution, not a red mark on every sample (issue 12, item 7)."""

from __future__ import annotations

import pytest
import torch

import rltutor
from rltutor._action_band import action_band, action_bands


@pytest.mark.parametrize("band", [action_band, action_bands])
@pytest.mark.parametrize("quantiles", [(0.9, 0.1), (-0.1, 0.5), (0.5, 1.5), (0.5,), "ab"])
def test_bad_quantiles_get_one_message_from_both(band, quantiles):
    with pytest.raises(ValueError, match=r"quantiles must be \(low, high\) with 0 <= low"):
        band(None, None, quantiles=quantiles)


def test_one_band_and_the_band_of_each_part_agree_for_a_plain_action():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    actor = rltutor.make_gaussian_actor(env)
    with torch.no_grad():
        td = rltutor.rollout(env, actor, steps=20, exploration="random", seed=0)
    low, high = action_band(actor, td, quantiles=(0.25, 0.75))
    part_low, part_high = action_bands(actor, td, quantiles=(0.25, 0.75))["action"]
    assert torch.equal(low, part_low) and torch.equal(high, part_high)


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
    band = panel.figure._bands.edges[0]
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


# -- composite actors (lesson 07), noise modules (lesson 08), the pure band series -------

def test_composite_actor_gets_choice_probabilities_and_a_force_band():
    from test_rollouts import composite_actor

    from rltutor._action_band import action_bands
    from rltutor.addons.toy_envs import PuckEnv

    env = PuckEnv(seed=0)
    actor = composite_actor(env)
    with torch.no_grad():
        td = rltutor.rollout(env, actor, steps=200, exploration="random", seed=0,
                             break_when_done=False)
    bands = action_bands(actor, td)
    assert set(bands) == {"direction", "force"}
    probs = bands["direction"]
    assert probs.shape == (200, 2) and torch.allclose(probs.sum(-1), torch.ones(200))
    with torch.no_grad():  # the logits' own probabilities
        exact = actor.get_dist(td).dists["action", "direction"].probs
    assert torch.allclose(probs, exact)
    low, high = bands["force"]
    force = td["action", "force"]
    assert low.shape == force.shape and (low >= 0).all() and (high <= 1).all()
    inside = ((force >= low) & (force <= high)).float().mean().item()
    assert 0.8 <= inside <= 0.97, inside


def test_gaussian_noise_band_holds_90_percent_of_the_noisy_actions_and_clips():
    from torchrl.modules import AdditiveGaussianModule

    from rltutor._noise_band import noise_band

    env = rltutor.make_env("Pendulum-v1", seed=0)
    noise = AdditiveGaussianModule(spec=env.action_spec, sigma_init=0.3, sigma_end=0.3)
    greedy = torch.linspace(-1.5, 1.5, 4000)[:, None]
    torch.manual_seed(0)
    from tensordict import TensorDict

    taken = noise(TensorDict({"action": greedy.clone()}, [4000]))["action"]
    low, high = noise_band(noise, greedy)
    inside = ((taken >= low) & (taken <= high)).float().mean().item()
    assert 0.87 <= inside <= 0.93, inside
    assert torch.allclose(high[2000] - low[2000], torch.tensor([2 * 1.645 * 0.3]), atol=1e-3)
    wide = noise_band(AdditiveGaussianModule(spec=env.action_spec), greedy)  # sigma 1
    assert wide[0].min() == -2 and wide[1].max() == 2  # clipped to the spec, like the action
    assert noise_band(torch.nn.Linear(1, 1), greedy) is None


def test_ou_band_starts_narrow_and_widens_within_each_episode():
    from tensordict.nn import TensorDictSequential
    from torchrl.modules import OrnsteinUhlenbeckProcessModule

    from rltutor._noise_band import noise_band

    env = rltutor.make_env("Pendulum-v1", seed=0)
    ou = OrnsteinUhlenbeckProcessModule(spec=env.action_spec, eps_init=1.0, eps_end=1.0)
    policy = TensorDictSequential(rltutor.make_actor(env), ou)
    with torch.no_grad():
        td = rltutor.rollout(env, policy, steps=60, exploration="random", seed=0)
    greedy = torch.zeros(60, 1)
    low, high = noise_band(ou, greedy, td)
    width = (high - low)[:, 0]
    assert torch.isclose(width[0], torch.tensor(2 * 1.645 * 0.2 * 0.1), atol=1e-4)
    assert (width[1:] > width[:-1]).all()  # a random walk: the spread grows with the steps
    assert noise_band(ou, greedy, None) is None  # no step counter, no band


def test_band_series_and_ribbons_are_pure_numbers():
    import numpy as np

    from rltutor.plots._bands import band_series, ribbon_polygons
    from rltutor.plots._series import ActionSeries

    choice = ActionSeries("direction", np.zeros(3), True, 3, None, None)
    force = ActionSeries("force", np.zeros((3, 1)), False, None, None, None)
    probs = torch.tensor([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])  # choice 2 never sampled
    out = band_series({"direction": probs, "force": (torch.zeros(3, 1), torch.ones(3, 1))},
                      [choice, force], 1)
    assert out[0].probs.shape == (1, 3, 3) and out[0].probs[0, :, 2].tolist() == [0, 0, 0]
    assert out[1].low.shape == (1, 3, 1) and out[1].probs is None
    assert band_series(None, [choice, force], 1) == [None, None]
    rows = ribbon_polygons(np.arange(3), out[0].probs[0])
    assert len(rows) == 3 and rows[1][:, 1].max() == pytest.approx(1.4)  # p = 1: row ± 0.4
    assert np.allclose(rows[2][:, 1], 2.0)  # probability 0: no ribbon


def test_explorer_on_lesson_08s_noise_policy_draws_the_noise_band_not_marks():
    from tensordict.nn import TensorDictSequential
    from test_rollouts import pendulums
    from torchrl.modules import AdditiveGaussianModule

    env = pendulums(3)
    policy = TensorDictSequential(rltutor.make_actor(env),
                                  AdditiveGaussianModule(spec=env.action_spec))
    panel = rltutor.explorer(env, policy, steps=40)
    fig = panel.figure
    assert len(fig.explored_line.get_xdata()) == 0 and panel.stats["explored_fraction"] > 0.9
    assert all(len(line.get_xdata()) == 40 for line in fig._bands.edges[0])
    labels = [t.get_text() for t in fig.ax_action.get_legend().get_texts()]
    assert labels == ["action taken", "action without noise", "5-95 % of the noise"]
    panel.controls["exploration"].value = "deterministic"
    assert all(len(line.get_xdata()) == 0 for line in fig._bands.edges[0])


def test_explorer_on_a_composite_actor_draws_a_ribbon_and_a_force_band():
    from test_rollouts import composite_actor

    from rltutor.addons.toy_envs import PuckEnv

    env = PuckEnv(seed=0)
    panel = rltutor.explorer(env, composite_actor(env), steps=30)
    fig = panel.figure
    ribbon = fig._bands.ribbons[0]
    assert len(ribbon.get_paths()) == 2  # one per direction
    assert all(len(line.get_xdata()) == 30 for line in fig._bands.edges[1])
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.ax_actions]
    assert legends == [["action taken", "deterministic action", "probability of each choice"],
                       ["action taken", "deterministic action", "5-95 % of the distribution"]]
    assert len(fig.explored_line.get_xdata()) == 0
    panel.controls["exploration"].value = "deterministic"
    assert len(ribbon.get_paths()) == 0


def test_no_noise_band_where_the_noise_module_does_not_act():
    from tensordict.nn import TensorDictSequential
    from torchrl.modules import AdditiveGaussianModule

    env = rltutor.make_env("Pendulum-v1", seed=0)
    policy = TensorDictSequential(rltutor.make_actor(env),
                                  AdditiveGaussianModule(spec=env.action_spec))
    panel = rltutor.explorer(env, policy, steps=20, exploration="mean")  # noise off
    assert all(len(line.get_xdata()) == 0 for line in panel.figure._bands.edges[0])
    assert panel.stats["explored_fraction"] == 0.0


def test_lesson_08s_band_is_the_unperturbed_action_plus_minus_1645_sigma_for_every_seed():
    from tensordict.nn import TensorDictSequential
    from test_rollouts import pendulums
    from torchrl.modules import AdditiveGaussianModule

    env = pendulums(3)
    policy = TensorDictSequential(rltutor.make_actor(env),
                                  AdditiveGaussianModule(spec=env.action_spec))  # sigma 1
    panel = rltutor.explorer(env, policy, steps=30, controls=("seed",))
    for seed in range(10):
        panel.controls["seed"].value = seed
        fig = panel.figure
        greedy = fig.greedy_lines[0].get_ydata()
        low, high = (line.get_ydata() for line in fig._bands.edges[0])
        assert len(fig.explored_line.get_xdata()) == 0, seed
        assert abs(low - (greedy - 1.645).clip(-2, 2)).max() < 1e-3, seed
        assert abs(high - (greedy + 1.645).clip(-2, 2)).max() < 1e-3, seed
