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
