"""The explorer's summary names what it counts: sampled, ≠ deterministic, replaced (issue 20)."""

from __future__ import annotations

import re

import pytest
import torch
from tensordict.nn import TensorDictSequential
from torchrl.envs.utils import RandomPolicy
from torchrl.modules import EGreedyModule

import rltutor
from rltutor._replaced import record_replaced


def rows(panel) -> dict[str, str]:
    cells = re.findall(r'<td class="k">(.*?)</td><td class="v">(.*?)</td>', panel.summary.value)
    return {k.replace("&#x27;", "'"): v for k, v in cells}


@pytest.fixture(scope="module")
def pendulum():
    return rltutor.make_env("Pendulum-v1", seed=0)


def test_sampling_actor_counts_its_samples_under_random_and_mean(pendulum):
    # the issue's example: lesson 03's sampling actor said "0 % exploratory" here
    actor = rltutor.make_gaussian_actor(pendulum, bounded=True, num_cells=(16,))
    panel = rltutor.explorer(pendulum, actor, controls=("exploration",), steps=50)
    summary = rows(panel)
    assert summary["sampled"] == "100% (50 of 50)"
    assert summary["≠ deterministic"] == "100% (50 of 50)"
    assert "replaced by an exploration module" not in summary
    panel.controls["exploration"].value = "mean"  # no sample, but an estimate of the mean
    summary = rows(panel)
    assert summary["sampled"] == "0% (0 of 50)"
    assert summary["≠ deterministic"] == "100% (50 of 50)"
    assert panel.stats["differs_fraction"] == 1.0 and panel.stats["sampled_fraction"] == 0.0
    panel.controls["exploration"].value = "deterministic"
    assert rows(panel)["≠ deterministic"] == "0% (0 of 50)"


def test_egreedy_on_a_deterministic_actor_counts_replacements(pendulum):
    actor = rltutor.make_actor(pendulum, num_cells=(16,), seed=0)
    policy = TensorDictSequential(actor, EGreedyModule(pendulum.action_spec, 0.5, 0.5))
    panel = rltutor.explorer(pendulum, policy, controls=("epsilon", "exploration"), steps=100)
    summary = rows(panel)
    assert "sampled" not in summary
    share = panel.stats["explored_fraction"]
    assert 0.3 < share < 0.7
    assert summary["replaced by an exploration module"] == (
        f"{share:.0%} ({round(share * 100)} of 100)")


def test_egreedy_after_a_sampler_counts_replacements_and_samples_apart():
    env = rltutor.make_env("CartPole-v1", seed=0)
    sampler = rltutor.make_categorical_actor(env)
    policy = TensorDictSequential(sampler, EGreedyModule(env.action_spec, 0.0, 0.0))
    panel = rltutor.explorer(env, policy, controls=("epsilon",), steps=100)
    summary = rows(panel)
    assert summary["sampled"] == "100% (100 of 100)"
    assert summary["replaced by an exploration module"] == "0% (0 of 100)"  # eps = 0
    assert panel.stats["differs_fraction"] > 0.1  # the samples alone leave the mode
    panel.controls["epsilon"].value = 1.0
    # a random one-hot action differs from the one it replaces about half the time
    assert 0.3 < panel.stats["explored_fraction"] < 0.7


def test_noise_module_replaces_every_step_and_random_policy_is_named(pendulum):
    actor = rltutor.make_actor(pendulum, num_cells=(16,), seed=0)
    noisy = rltutor.with_gaussian_noise(actor, pendulum, sigma=0.3)
    panel = rltutor.explorer(pendulum, noisy, controls=("exploration",), steps=30)
    assert rows(panel)["replaced by an exploration module"] == "100% (30 of 30)"
    random_panel = rltutor.explorer(pendulum, RandomPolicy(pendulum.action_spec), steps=30)
    assert rows(random_panel)["drawn by RandomPolicy"] == "100% (30 of 30)"


def test_record_replaced_on_batched_envs_has_the_rollout_shape():
    from torchrl.envs import GymEnv, SerialEnv

    env = SerialEnv(2, lambda: GymEnv("CartPole-v1"))
    policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(
        rltutor.make_env("CartPole-v1")), env, eps=1.0)
    with record_replaced(policy) as recorder, torch.no_grad():
        td = rltutor.rollout(env, policy, steps=40, exploration="random", seed=0,
                             break_when_done=False)
    mask = recorder.result(td)
    assert mask.shape == td.shape == (2, 40)
    assert 0.2 < mask.float().mean() < 0.8
    env.close()
