"""Module cards, dataflow and rollout badges for policies as TorchRL users write them:
transforms inside a TensorDictSequential, RandomPolicy, a plain function (issue 11, items 1
and 5)."""

from __future__ import annotations

import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import (
    BatchSizeTransform,
    Compose,
    DoubleToFloat,
    ObservationNorm,
    StepCounter,
    TransformedEnv,
)
from torchrl.envs.utils import RandomPolicy

import rltutor
from rltutor._keys import env_keys, key_str


def linear_actor() -> TensorDictModule:
    return TensorDictModule(nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])


def normalised_policy() -> TensorDictSequential:
    """The policy normalises its own input: ObservationNorm runs inside it."""
    norm = ObservationNorm(loc=torch.zeros(3), scale=torch.full((3,), 2.0),
                           in_keys=["observation"])
    return TensorDictSequential(norm, linear_actor())


def step_names(module) -> list[str]:
    return [line.split()[1] for line in rltutor.dataflow(module).to_text(width=100).splitlines()
            if line[:1].isdigit()]


def test_observation_norm_inside_a_policy_is_a_step_of_card_and_dataflow():
    policy = normalised_policy()
    card = rltutor.to_text(policy, width=100)
    assert "ObservationNorm  observation -> observation" in card
    assert "loc [0, 0, 0], scale [2, 2, 2], overwrites observation" in card
    assert step_names(policy) == ["ObservationNorm", "Linear"]
    flow = rltutor.dataflow(policy).to_text(width=100)
    assert "writes: observation, action" in flow  # the rollout keeps the normalised one


def test_batch_size_transforms_around_a_module_are_three_steps():
    # the example from the issue: the card and the dataflow used to show one step
    policy = TensorDictSequential(BatchSizeTransform(batch_size=[1]), linear_actor(),
                                  BatchSizeTransform(batch_size=[]))
    assert step_names(policy) == ["BatchSizeTransform", "Linear", "BatchSizeTransform"]
    card = rltutor.to_text(policy, width=100).splitlines()
    assert [line for line in card if "BatchSizeTransform" in line] == [
        "├─ BatchSizeTransform  (batch_size [1])",
        "└─ BatchSizeTransform  (batch_size [])",
    ]


def test_env_transforms_in_front_of_a_policy_export_pattern(pendulum):
    # TensorDictSequential(env.transform[:-1], policy): the transforms open as a Compose
    env = TransformedEnv(pendulum, Compose(
        ObservationNorm(loc=torch.zeros(3), scale=torch.ones(3), in_keys=["observation"]),
        DoubleToFloat(), StepCounter()))
    policy = TensorDictSequential(env.transform[:-1], linear_actor())
    assert step_names(policy) == ["ObservationNorm", "DoubleToFloat", "Linear"]
    assert "TensorDictSequential > Compose" in rltutor.dataflow(policy).to_text(width=100)
    card = rltutor.to_text(policy, width=100)
    assert "├─ Compose" in card and "│  ├─ ObservationNorm" in card
    assert [key_str(k) for k in env_keys(policy)] == ["observation"]


def test_rollout_badges_mark_an_observation_rewritten_by_the_policy(pendulum):
    policy = normalised_policy()
    rollout_td = rltutor.rollout(pendulum, policy, steps=5)
    lines = rltutor.to_text(rollout_td, module=policy, width=100).splitlines()
    row = next(line for line in lines if line.startswith("├─ observation"))
    assert "[input] [policy]" in row  # read from the env, then overwritten in place
    # and it really holds the normalised value: twice the env's observation
    torch.testing.assert_close(rollout_td[1:]["observation"],
                               2 * rollout_td[:-1]["next", "observation"])
    html = rltutor.to_html(rollout_td, module=policy)
    assert ('observation<span class="rlt-badge rlt-badge-input"' in html
            and html.count("rlt-badge rlt-badge-policy") == 3)  # observation, action, legend


def test_random_policy_dataflow_says_what_it_writes(pendulum):
    policy = RandomPolicy(pendulum.action_spec)
    lines = rltutor.dataflow(policy).to_text(width=100).splitlines()
    assert lines[:3] == ["dataflow of RandomPolicy", "  from the environment: nothing",
                         "  writes: action"]
    assert "ignores its inputs and the exploration type" in "\n".join(lines)
    rollout_td = rltutor.rollout(pendulum, policy, steps=5)
    row = next(line for line in rltutor.to_text(rollout_td, module=policy).splitlines()
               if line.startswith("├─ action"))
    assert "[policy]" in row


def test_a_plain_function_policy_is_shown_not_refused():
    def my_policy(td):
        td["action"] = torch.zeros(1)
        return td

    text = rltutor.dataflow(my_policy).to_text(width=100)
    assert text.startswith("dataflow of my_policy")
    assert "keys not declared" in text


def test_dataflow_still_refuses_what_cannot_be_a_policy():
    for bad in (3, nn.Linear(3, 1)):
        try:
            rltutor.dataflow(bad)
        except TypeError as error:
            assert "RandomPolicy" in str(error) and type(bad).__name__ in str(error)
        else:
            raise AssertionError(f"dataflow({bad!r}) did not raise")


def test_random_policy_card_shows_what_it_writes(pendulum):
    policy = RandomPolicy(pendulum.action_spec)
    assert rltutor.to_text(policy).splitlines() == [
        "RandomPolicy  - -> action",
        "  draws action_spec.rand(): ignores its inputs and the exploration type",
    ]
    assert "rlt-key-out" in rltutor.to_html(policy)


def test_only_inputs_from_the_env_count_as_overwritten(cartpole):
    # QValueModule writes action_value back unchanged; e-greedy replaces the action: neither
    # rewrites what the policy read from the environment
    policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(cartpole), cartpole)
    assert "overwrites" not in rltutor.dataflow(policy).to_text(width=100)
    assert "overwrites" not in rltutor.to_text(policy, width=100)


def test_export_recipe_preprocessing_compose_is_shown_and_runs_on_the_raw_env():
    # TorchRL's export recipe: the env's transforms but the last (a StepCounter) move in
    # front of the exploring Q-policy, so that the raw env's frames go in
    from torchrl.envs import GrayScale, GymEnv, ToTensorImage
    from torchrl.modules import ConvNet, EGreedyModule, QValueModule

    raw = GymEnv("CartPole-v1", from_pixels=True, pixels_only=False,
                 categorical_action_encoding=True)
    env = TransformedEnv(raw, Compose(ToTensorImage(), GrayScale(), StepCounter()))
    torch.manual_seed(0)
    value_net = TensorDictModule(
        nn.Sequential(ConvNet(num_cells=[4], kernel_sizes=[16], strides=[16]), nn.LazyLinear(2)),
        in_keys=["pixels"], out_keys=["action_value"])
    policy = TensorDictSequential(value_net, QValueModule(spec=env.action_spec))
    policy_explore = TensorDictSequential(policy, EGreedyModule(env.action_spec, eps_init=0.5))
    policy_transform = TensorDictSequential(env.transform[:-1], policy_explore)
    policy_transform.select_out_keys("action")

    assert step_names(policy_transform) == ["ToTensorImage", "GrayScale", "Sequential",
                                            "QValueModule", "EGreedyModule"]
    card = rltutor.to_text(policy_transform, width=100)
    assert "├─ Compose" in card
    assert "│  ├─ ToTensorImage  pixels -> pixels" in card
    assert "│  └─ GrayScale  pixels -> pixels" in card
    assert "GrayScale" in rltutor.to_html(policy_transform)
    assert [key_str(k) for k in env_keys(policy_transform)] == ["pixels"]
    # the raw env's uint8 frames are what the policy reads: the explorer runs it there
    panel = rltutor.explorer(raw, policy_transform, steps=6)
    assert panel.last_error is None and "epsilon" in panel.controls
    text = rltutor.to_text(panel.rollout_td, module=policy_transform, width=100)
    pixels = next(line for line in text.splitlines() if line.startswith("├─ pixels"))
    assert "[input]" in pixels and "[policy]" in pixels  # read raw, rewritten in place


def test_batch_size_transform_with_a_reshape_function_says_so():
    # the export recipe's form: a function reshapes the batch (unsqueeze in, squeeze out)
    policy = TensorDictSequential(BatchSizeTransform(reshape_fn=lambda x: x.unsqueeze(0)),
                                  linear_actor(),
                                  BatchSizeTransform(reshape_fn=lambda x: x.squeeze(0)))
    card = rltutor.to_text(policy, width=100).splitlines()
    assert [line for line in card if "BatchSizeTransform" in line] == [
        "├─ BatchSizeTransform  (reshape_fn <lambda>)",
        "└─ BatchSizeTransform  (reshape_fn <lambda>)",
    ]
