"""rltutor.addons.offpolicy_probes and offpolicy_plots: lesson 14's measurements and pictures."""

from __future__ import annotations

import math

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.modules import MLP, AdditiveGaussianModule, TanhModule, ValueOperator
from torchrl.objectives import TD3Loss

from rltutor.addons import offpolicy_plots as plots
from rltutor.addons import offpolicy_probes as probes
from rltutor.envs import make_env


@pytest.fixture(scope="module")
def td3():
    env = make_env("Pendulum-v1", seed=0)
    torch.manual_seed(0)
    actor = TensorDictSequential(
        TensorDictModule(MLP(in_features=3, out_features=1, num_cells=[16]),
                         in_keys=["observation"], out_keys=["param"]),
        TanhModule(in_keys=["param"], out_keys=["action"], spec=env.action_spec))
    critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[16]),
                           in_keys=["observation", "action"])
    loss_fn = TD3Loss(actor, critic, action_spec=env.action_spec, num_qvalue_nets=2)
    return env, actor, loss_fn


def test_pendulum_observations_are_on_the_circle_at_rest():
    obs = probes.pendulum_observations(8, speed=0.0)
    assert obs.shape == (8, 3)
    assert torch.allclose(obs[:, 0] ** 2 + obs[:, 1] ** 2, torch.ones(8))
    assert (obs[:, 2] == 0).all()
    with pytest.raises(ValueError, match="whole number >= 2"):
        probes.pendulum_observations(1)


def test_action_spread_measures_noise_and_leaves_the_rng_alone(td3):
    env, actor, _ = td3
    noisy = TensorDictSequential(actor, AdditiveGaussianModule(
        spec=env.action_spec, sigma_init=0.2, sigma_end=0.2))
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    spread = probes.action_spread(noisy, probes.pendulum_observations(16), samples=500)
    assert torch.equal(before, torch.random.get_rng_state())
    assert 0.18 < spread <= 0.21
    assert probes.action_spread(actor, probes.pendulum_observations(16)) == 0.0
    with pytest.raises(ValueError, match="samples"):
        probes.action_spread(noisy, probes.pendulum_observations(4), samples=1)
    with pytest.raises(ValueError, match=r"\[N, obs_dim\]"):
        probes.action_spread(noisy, torch.zeros(3))


def test_return_to_go_is_lesson_09s():
    rewards = torch.tensor([1.0, 0.0, 2.0])
    assert probes.discounted_return_to_go(rewards, gamma=0.5).tolist() == [1.5, 1.0, 2.0]
    with pytest.raises(ValueError, match="gamma"):
        probes.discounted_return_to_go(rewards, gamma=1.5)


def test_critic_predictions_use_each_parameter_set(td3):
    env, actor, loss_fn = td3
    td = env.rollout(5, actor)
    values = probes.critic_predictions(loss_fn, td)
    assert values.shape == (2, 5)
    assert not torch.allclose(values[0], values[1])  # two critics, two first weights
    with pytest.raises(TypeError, match="SACLoss or TD3Loss"):
        probes.critic_predictions(object(), td)


def test_checkpoint_view_and_its_picture(td3):
    env, actor, loss_fn = td3
    view = probes.checkpoint_view(loss_fn, actor, env, steps=30)
    assert view["value_map"].shape == (33, 41) and len(view["angle"]) == 30
    assert view["angle"].abs().max() <= math.pi
    fig = plots.plot_checkpoints({"TD3": {**view, "title": "t"}, "again": view})
    assert [ax.get_title() for ax in fig.axes if ax.get_xlabel()][:2] == ["t", "again"]


def test_plots_refuse_empty_or_mismatched_input():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_action_spread({}, frames=[1])
    with pytest.raises(ValueError, match="3 values for 2 frames"):
        plots.plot_action_spread({"SAC": [1, 2, 3]}, frames=[1, 2])
    with pytest.raises(ValueError, match="empty"):
        plots.plot_critics_along({}, gamma=0.9)
    with pytest.raises(ValueError, match="empty"):
        plots.plot_checkpoints({})


def test_critics_picture_draws_both_critics_and_the_target():
    fig = plots.plot_critics_along(
        {"SAC": {"return_to_go": torch.linspace(-100, 0, 50), "critics": torch.zeros(2, 50)}},
        gamma=0.9)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["return-to-go (what followed)", "critic 1", "critic 2"]
