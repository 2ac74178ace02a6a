"""check_policy compares the action a policy writes with the env's action spec (issue 11,
item 4), and takes any policy env.rollout takes (item 5)."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import GymEnv
from torchrl.envs.utils import RandomPolicy
from torchrl.modules import MLP, QValueModule

import rltutor


def codes(found) -> list[str]:
    return [f.code for f in found]


class Argmax(nn.Module):
    """What a user writes instead of QValueModule: the index of the best action value."""

    def forward(self, action_value: torch.Tensor) -> torch.Tensor:
        return action_value.argmax(-1, keepdim=True)


def argmax_policy() -> TensorDictSequential:
    values = TensorDictModule(nn.Linear(4, 2), in_keys=["observation"],
                              out_keys=["action_value"])
    pick = TensorDictModule(Argmax(), in_keys=["action_value"], out_keys=["action"])
    return TensorDictSequential(values, pick)


def test_integer_action_under_a_one_hot_spec_really_always_goes_left(cartpole):
    # the mistake for real: index 1 ("right") and index 0 drive the cart the same way
    def always(index):
        def policy(td):
            return td.set("action", torch.tensor([index]))
        return policy

    velocities = []
    for index in (0, 1):
        cartpole.set_seed(0)
        velocities.append(cartpole.rollout(5, always(index))["next", "observation"][:, 1])
    torch.testing.assert_close(velocities[0], velocities[1])
    assert (velocities[0] < 0).all()  # pushed left at every step


def test_integer_action_for_a_one_hot_spec_is_a_finding_without_qvalue_module(cartpole):
    found = rltutor.check_policy(argmax_policy(), cartpole)
    assert codes(found) == ["action-encoding"]
    assert "int64 [1], an index" in found[0].what and "one-hot" in found[0].what
    assert "always goes left" in found[0].why
    assert "QValueModule(spec=env.action_spec)" in found[0].fix
    assert "categorical_action_encoding=True" in found[0].fix


def test_the_fixes_it_names_give_no_finding(cartpole):
    values = TensorDictModule(nn.Linear(4, 2), in_keys=["observation"],
                              out_keys=["action_value"])
    right = TensorDictSequential(values, QValueModule(spec=cartpole.action_spec))
    assert codes(rltutor.check_policy(right, cartpole)) == []
    indices = GymEnv("CartPole-v1", categorical_action_encoding=True)
    pick = TensorDictModule(Argmax(), in_keys=["action_value"], out_keys=["action"])
    by_index = TensorDictSequential(values, pick)
    # the index policy fits an index spec once its last dim is squeezed
    squeeze = TensorDictModule(lambda a: a.squeeze(-1), in_keys=["action"], out_keys=["action"])
    assert codes(rltutor.check_policy(TensorDictSequential(by_index, squeeze), indices)) == []


def test_a_one_hot_policy_on_an_index_spec_is_a_finding():
    indices = GymEnv("CartPole-v1", categorical_action_encoding=True)
    values = TensorDictModule(nn.Linear(4, 2), in_keys=["observation"],
                              out_keys=["action_value"])
    one_hot = TensorDictModule(lambda v: torch.nn.functional.one_hot(v.argmax(-1), 2),
                               in_keys=["action_value"], out_keys=["action"])
    found = rltutor.check_policy(TensorDictSequential(values, one_hot), indices)
    assert codes(found) == ["action-encoding"]
    assert "takes an index" in found[0].what


def test_a_qvalue_module_mismatch_is_reported_once(cartpole):
    values = TensorDictModule(nn.Linear(4, 2), in_keys=["observation"],
                              out_keys=["action_value"])
    wrong = TensorDictSequential(values, QValueModule(action_space="categorical"))
    assert codes(rltutor.check_policy(wrong, cartpole)) == ["qvalue-action-space"]


def test_a_two_dim_action_in_pendulum_is_a_finding(pendulum):
    wide = TensorDictModule(MLP(out_features=2, num_cells=[16]), in_keys=["observation"],
                            out_keys=["action"])
    found = rltutor.check_policy(wide, pendulum)
    assert codes(found) == ["action-shape"]
    assert "float32 [2]" in found[0].what and "[1]" in found[0].what
    assert "out_features=env.action_spec.shape[-1] (here 1)" in found[0].fix


def test_the_ignored_second_value_really_is_ignored(pendulum):
    def acting(action):
        def policy(td):
            return td.set("action", action)
        return policy

    outcomes = []
    for action in (torch.tensor([1.0, -2.0]), torch.tensor([1.0, 2.0]), torch.tensor([1.0])):
        pendulum.set_seed(0)
        outcomes.append(pendulum.rollout(3, acting(action))["next", "observation"])
    torch.testing.assert_close(outcomes[0], outcomes[1])
    torch.testing.assert_close(outcomes[0], outcomes[2])


def test_integer_actions_for_a_continuous_spec_are_a_finding(pendulum):
    rounded = TensorDictModule(lambda obs: obs[..., :1].round().long(),
                               in_keys=["observation"], out_keys=["action"])
    found = rltutor.check_policy(rounded, pendulum)
    assert codes(found) == ["action-dtype"]
    assert "int64" in found[0].what and "float32" in found[0].what


def test_lazy_policy_is_checked_without_deciding_its_weights(pendulum):
    lazy = TensorDictModule(nn.LazyLinear(2), in_keys=["observation"], out_keys=["action"])
    state = torch.random.get_rng_state()
    assert codes(rltutor.check_policy(lazy, pendulum)) == ["action-shape"]
    assert isinstance(lazy.module.weight, nn.parameter.UninitializedParameter)
    assert torch.equal(state, torch.random.get_rng_state())


def test_random_policy_is_checked_not_refused(pendulum, cartpole):
    assert codes(rltutor.check_policy(RandomPolicy(pendulum.action_spec), pendulum)) == []
    # a RandomPolicy built from another env's spec writes the wrong action
    found = rltutor.check_policy(RandomPolicy(cartpole.action_spec), pendulum)
    assert codes(found) == ["action-shape"]


def test_check_policy_still_refuses_what_is_no_policy(pendulum):
    with pytest.raises(TypeError, match="RandomPolicy"):
        rltutor.check_policy("policy", pendulum)
