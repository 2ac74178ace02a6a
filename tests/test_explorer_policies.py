"""The explorer, rollout and plot_rollout take what env.rollout takes (issue 11, items 2, 3
and 5): in-place policies, recurrent Q-policies, RandomPolicy, a plain function."""

from __future__ import annotations

import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import ObservationNorm
from torchrl.envs.utils import RandomPolicy
from torchrl.modules import QValueModule

import rltutor
from rltutor.plots import RolloutFigure


def normalised_actor() -> TensorDictSequential:
    torch.manual_seed(0)
    norm = ObservationNorm(loc=torch.zeros(3), scale=torch.full((3,), 2.0),
                           in_keys=["observation"])
    actor = TensorDictModule(nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])
    return TensorDictSequential(norm, actor)


def test_in_place_policy_is_not_exploratory_under_deterministic(pendulum):
    # the example: explored_fraction was 1.0 here
    panel = rltutor.explorer(pendulum, normalised_actor(), steps=50)
    assert panel.last_error is None
    assert panel.stats["explored_fraction"] == 0.0
    assert "exploration" not in panel.controls  # nothing in it explores


def test_in_place_policy_with_noise_switches_cleanly(pendulum):
    policy = rltutor.with_gaussian_noise(normalised_actor(), pendulum)
    panel = rltutor.explorer(pendulum, policy, steps=50)
    assert panel.stats["explored_fraction"] == 1.0
    panel.controls["exploration"].value = "deterministic"
    assert panel.last_error is None and panel.stats["explored_fraction"] == 0.0


def test_random_policy_runs_in_rollout_explorer_and_plot(pendulum):
    policy = RandomPolicy(pendulum.action_spec)
    rollout_td = rltutor.rollout(pendulum, policy, steps=30, seed=0, break_when_done=False)
    assert rollout_td.batch_size == (30,)
    assert isinstance(rltutor.plot_rollout(rollout_td), RolloutFigure)
    panel = rltutor.explorer(pendulum, policy, steps=30)
    assert panel.last_error is None and panel.rollout_td.batch_size == (30,)
    assert panel.stats["explored_fraction"] == 1.0  # every action is a random draw
    panel.controls["seed"].value = 3
    assert panel.last_error is None
    assert not torch.equal(panel.rollout_td["action"], rollout_td["action"])


def test_a_function_policy_runs_in_the_explorer(pendulum):
    def push_right(td):
        return td.set("action", torch.ones(1))

    panel = rltutor.explorer(pendulum, push_right, steps=20)
    assert panel.last_error is None and panel.stats["explored_fraction"] == 0.0
    assert bool((panel.rollout_td["action"] == 1).all())


def test_explorer_finds_exploratory_steps_without_rerunning_the_policy(cartpole):
    calls = []
    net = nn.Linear(4, 2)
    net.register_forward_hook(lambda *args: calls.append(1))
    q = TensorDictModule(net, in_keys=["observation"], out_keys=["action_value"])
    policy = rltutor.with_egreedy(TensorDictSequential(
        q, QValueModule(spec=cartpole.action_spec)), cartpole, eps=0.5)
    panel = rltutor.explorer(cartpole, policy, steps=40)
    assert 0.0 < panel.stats["explored_fraction"] < 1.0
    calls.clear()
    panel.controls["seed"].value = 5
    assert len(calls) == 40  # once per step of the rollout, no second pass


def test_random_policy_spec_moves_with_the_device_control(pendulum):
    from rltutor.rollouts import move_specs

    policy = RandomPolicy(pendulum.action_spec)
    assert move_specs(policy, "meta") == [policy]
    assert policy.action_spec.device == torch.device("meta")


def test_pixel_policy_converting_its_frames_in_place():
    # ToTensorImage inside the policy turns the stored uint8 frames into float CHW ones: the
    # old re-run on the stored entries crashed on them
    from torchrl.envs import GymEnv, ToTensorImage
    from torchrl.modules import ConvNet

    env = GymEnv("Pendulum-v1", from_pixels=True, pixels_only=False)
    torch.manual_seed(0)
    net = nn.Sequential(ConvNet(num_cells=[4], kernel_sizes=[8], strides=[8]), nn.LazyLinear(1))
    policy = TensorDictSequential(ToTensorImage(in_keys=["pixels"]),
                                  TensorDictModule(net, in_keys=["pixels"], out_keys=["action"]))
    panel = rltutor.explorer(env, rltutor.with_gaussian_noise(policy, env), steps=8)
    assert panel.last_error is None and panel.stats["explored_fraction"] == 1.0
    assert panel.rollout_td["pixels"].dtype == torch.float32  # rewritten in place
    panel.controls["exploration"].value = "deterministic"
    assert panel.last_error is None and panel.stats["explored_fraction"] == 0.0


def test_random_policy_has_no_deterministic_action_to_compute(pendulum):
    from rltutor.rollouts import exploratory_steps

    policy = RandomPolicy(pendulum.action_spec)
    rollout_td = rltutor.rollout(pendulum, policy, steps=5, seed=0, break_when_done=False)
    try:
        exploratory_steps(policy, rollout_td)
    except ValueError as error:  # not tensordict's "batch dimension mismatch"
        assert "RandomPolicy has no deterministic action" in str(error)
    else:
        raise AssertionError("exploratory_steps(RandomPolicy) did not raise")
