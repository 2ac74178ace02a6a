"""rltutor.addons.offline: the controllers, the offline dataset, the context environment."""

from __future__ import annotations

import logging

import pytest
import torch

from rltutor.addons import offline


@pytest.fixture(scope="module")
def data():
    env = offline.make_low_gravity_pendulum(steps=60, seed=0)
    return offline.make_offline_dataset(env, efforts=(0.25, 1.0), episodes_per_effort=6,
                                        steps=60)


def test_controller_is_the_documented_formula_clipped():
    controller = offline.FeedbackController(effort=0.5, noise=0.0)
    obs = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 10.0]])
    assert controller(obs).flatten().tolist() == [0.0, -1.5, -2.0]  # -0.5 * (2 sin + ω)


def test_controller_noise_repeats_with_its_seed():
    obs = torch.zeros(5, 3)
    first = offline.FeedbackController(noise=0.3, seed=4)(obs)
    assert torch.equal(first, offline.FeedbackController(noise=0.3, seed=4)(obs))
    assert not torch.equal(first, offline.FeedbackController(noise=0.3, seed=5)(obs))


@pytest.mark.parametrize("kwargs, message", [
    ({"effort": 1.5}, "effort must be in [0.0, 1.0]"),
    ({"noise": -1}, "noise must be >= 0.0"),
    ({"effort": "high"}, "effort must be a number"),
])
def test_controller_rejects_bad_settings(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("[", r"\[")):
        offline.FeedbackController(**kwargs)


def test_dataset_shape_effort_and_episode_ends(data):
    assert tuple(data.batch_size) == (12, 60)
    assert data["effort"][:6].eq(0.25).all() and data["effort"][6:].eq(1.0).all()
    done = data["next", "done"].squeeze(-1)
    assert done[:, -1].all() and not done[:, :-1].any()  # one end per episode, at the cut


def test_more_effort_earns_more(data):
    returns = offline.episode_returns(data)
    assert returns[6:].mean() > returns[:6].mean() + 100  # the spread the lesson relies on


def test_dataset_rejects_bad_arguments():
    env = offline.make_low_gravity_pendulum(steps=5)
    with pytest.raises(ValueError, match="efforts must be a non-empty sequence"):
        offline.make_offline_dataset(env, efforts=0.5)
    with pytest.raises(ValueError, match="episodes_per_effort must be a positive integer"):
        offline.make_offline_dataset(env, episodes_per_effort=0)


def test_episode_returns_needs_episodes_and_time():
    with pytest.raises(ValueError, match=r"\[episodes, time\]"):
        offline.episode_returns(torch.zeros(3))


def test_context_env_stacks_and_lowers_the_target():
    env = offline.make_context_env(-50.0, context=3, steps=10)
    start = env.reset()
    assert start["return_to_go"].item() == -50.0
    assert start["observation_cat"].shape == (3, 3) and start["action_cat"].shape == (3, 1)
    rollout_td = env.rollout(10)  # random actions
    rtg, reward = rollout_td["return_to_go"], rollout_td["next", "reward"]
    assert torch.allclose(rtg[1:], rtg[:-1] - reward[:-1])
    assert torch.equal(rollout_td["next", "action_cat"][:, -1], rollout_td["action"])


def test_context_env_rejects_a_bad_context():
    with pytest.raises(ValueError, match="context must be a positive integer"):
        offline.make_context_env(-50.0, context=0)


def test_token_id_note_is_dropped_and_nothing_else():
    offline.quiet_token_id_warning()
    offline.quiet_token_id_warning()  # twice: still one filter
    log = logging.getLogger("transformers.configuration_utils")
    assert sum(f is offline._not_token_id_note for f in log.filters) == 1

    def record(text):
        return logging.LogRecord(log.name, logging.WARNING, __file__, 1, text, None, None)

    note = ("Model config: bos_token_id must be `None` or an integer within the vocabulary "
            "(between 0 and 0), got 50256. This may result in unexpected behavior.")
    assert not log.filter(record(note))
    assert log.filter(record("Model config: something else went wrong"))


def test_achieved_returns_starts_where_a_seeded_context_env_starts():
    # a policy that reads the stacks: torque against the last observation's sin θ
    def push(td):
        return td.set("action", -td["observation_cat"][..., -1, 1:2].clamp(-2, 2))

    table = offline.achieved_returns(push, targets=[-100.0, 0.0], seeds=[2, 5], steps=20)
    assert table.shape == (2, 2)
    for j, seed in enumerate((2, 5)):
        env = offline.make_context_env(-100.0, steps=20, seed=seed)
        with torch.no_grad():
            alone = env.rollout(20, push)["next", "reward"].sum()
        assert torch.allclose(table[0, j], alone, atol=1e-4)
    assert not torch.equal(table[:, 0], table[:, 1])  # the starts differ


def test_achieved_returns_needs_targets_and_seeds():
    with pytest.raises(ValueError, match="non-empty"):
        offline.achieved_returns(lambda td: td, targets=[], seeds=[0])
