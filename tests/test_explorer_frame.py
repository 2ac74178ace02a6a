"""The explorer's pure core (issue 25 §5): one policy profile, rollout_stats as numbers,
explorer_frame as what the panel shows, controls from one table."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs.utils import RandomPolicy
from torchrl.modules import (
    AdditiveGaussianModule,
    EGreedyModule,
    ProbabilisticActor,
    QValueModule,
    TanhNormal,
)

import rltutor
from rltutor._exploration import PolicyProfile, policy_profile
from rltutor._rollout_stats import rollout_stats, summary_rows
from rltutor.widgets._explorer import CONTROL_NAMES, CONTROLS
from rltutor.widgets._explorer_frame import explorer_frame


def q_policy(env) -> TensorDictSequential:
    torch.manual_seed(0)
    value = TensorDictModule(nn.Linear(4, 2), in_keys=["observation"], out_keys=["action_value"])
    return TensorDictSequential(value, QValueModule(spec=env.action_spec))


def tanh_normal_actor(env) -> ProbabilisticActor:
    torch.manual_seed(0)
    net = TensorDictModule(nn.Linear(3, 2), in_keys=["observation"], out_keys=["raw"])
    split = TensorDictModule(lambda raw: (raw[..., :1], raw[..., 1:].exp()), in_keys=["raw"],
                             out_keys=["loc", "scale"])
    return ProbabilisticActor(TensorDictSequential(net, split), in_keys=["loc", "scale"],
                              spec=env.action_spec, distribution_class=TanhNormal,
                              distribution_kwargs={"low": -2.0, "high": 2.0})


def test_profile_of_each_kind_of_policy(pendulum, cartpole):
    greedy = q_policy(cartpole)
    egreedy = TensorDictSequential(greedy, EGreedyModule(cartpole.action_spec, eps_init=0.3))
    noisy = TensorDictSequential(
        TensorDictModule(nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"]),
        AdditiveGaussianModule(spec=pendulum.action_spec))
    sampler = tanh_normal_actor(pendulum)
    kinds = {name: policy_profile(p) for name, p in [
        ("greedy", greedy), ("egreedy", egreedy), ("noisy", noisy), ("sampler", sampler),
        ("random", RandomPolicy(pendulum.action_spec))]}
    assert not kinds["greedy"].explores
    assert kinds["egreedy"].replaces and not kinds["egreedy"].samples
    assert kinds["noisy"].noise_module is not None and not kinds["noisy"].samples_only
    assert kinds["sampler"].samples_only and kinds["sampler"].noise_module is None
    assert kinds["random"].random_policy and not kinds["random"].explores


def test_rollout_stats_counts_over_a_batch_of_envs():
    td = TensorDict({"action": torch.zeros(2, 3, 1), "next": {
        "reward": torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 0.0]]).unsqueeze(-1),
        "done": torch.tensor([[False, True, False], [False, False, True]]).unsqueeze(-1)}},
        batch_size=[2, 3])
    explored = torch.tensor([[True, False, False], [True, True, False]])
    stats = rollout_stats(td, explored, differs=torch.ones(2, 3, dtype=torch.bool),
                          sampled=True)
    assert stats["total_reward"] == 5.0 and stats["reward_per_env"] == [6.0, -1.0]
    assert (stats["explored"], stats["actions"], stats["differs_fraction"]) == (3, 6, 1.0)
    assert stats["episodes_ended"] == 2 and stats["num_envs"] == 2 and stats["steps"] == 3
    rows = dict(summary_rows(stats, PolicyProfile()))
    assert rows["total reward (2 envs)"] == "5.00" and rows["per env"] == "-1.0 … 6.0"
    assert rows["replaced by an exploration module"] == "50% (3 of 6)"
    assert "sampled" not in rows  # nothing in this policy samples


def test_summary_rows_name_samples_apart_from_replacements(pendulum):
    profile = policy_profile(tanh_normal_actor(pendulum))
    stats = {"total_reward": -1.0, "explored": 0, "differs": 4, "actions": 4,
             "sampled_fraction": 1.0, "action_device": "cpu", "episodes_ended": 0,
             "num_envs": 1, "reward_per_env": [-1.0]}
    labels = [label for label, _ in summary_rows(stats, profile)]
    assert labels == ["total reward", "sampled", "≠ deterministic", "action device",
                      "episodes ended"]


def test_the_panel_shows_exactly_what_explorer_frame_returns(cartpole):
    policy = TensorDictSequential(q_policy(cartpole),
                                  EGreedyModule(cartpole.action_spec, eps_init=0.3))
    panel = rltutor.explorer(cartpole, policy, steps=30, seed=3)
    values = panel.values()
    assert values == {"epsilon": pytest.approx(0.3), "exploration": "random",
                      "device": "cpu", "seed": 3, "steps": 30}
    frame = explorer_frame(cartpole, policy, **values)  # a fresh figure, as the panel's first
    assert frame.png == panel.plot.value
    assert frame.stats == panel.stats and frame.summary_html == panel.summary.value
    assert 0 < frame.stats["explored"] < 30
    # a control set on the panel is the keyword of the same name
    panel.controls["epsilon"].value = 0.0
    again = explorer_frame(cartpole, policy, **panel.values())
    assert again.stats == panel.stats and again.stats["explored"] == 0


def test_explorer_frame_sets_epsilon_and_refuses_bad_values(cartpole):
    policy = TensorDictSequential(q_policy(cartpole),
                                  EGreedyModule(cartpole.action_spec, eps_init=0.3))
    frame = explorer_frame(cartpole, policy, epsilon=1.0, steps=20)
    assert frame.stats["epsilon"] == 1.0 and frame.stats["explored_fraction"] > 0.3
    with pytest.raises(ValueError, match="epsilon"):
        explorer_frame(cartpole, policy, epsilon=1.5, steps=20)
    with pytest.raises(ValueError, match="steps"):
        explorer_frame(cartpole, policy, steps=0)


def test_controls_table_offers_only_what_changes_something(pendulum):
    assert CONTROL_NAMES == tuple(CONTROLS)
    panel = rltutor.explorer(pendulum, tanh_normal_actor(pendulum), steps=10)
    assert list(panel.controls) == ["exploration", "device", "seed", "steps"]
    plain = TensorDictModule(nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])
    assert list(rltutor.explorer(pendulum, plain, steps=10).controls) == ["device", "seed",
                                                                        "steps"]
