"""One key rule: dataflow(), check_policy() and rollout() agree on what the env provides.

Each case below is one where the three used to disagree (before rltutor._keys): nested
keys, a step that writes a whole sub-TensorDict, LSTM state keys with custom names.
"""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import Compose, InitTracker, TransformedEnv
from torchrl.modules import LSTMModule

import rltutor
from rltutor._keys import as_path, env_keys, key_str, provided

KEY_FINDINGS = {"missing-in-key", "recurrent-no-primer", "recurrent-no-init-tracker"}


class Params(nn.Module):
    """Writes a whole sub-TensorDict: ``params`` with ``loc`` and ``scale`` inside."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, observation: torch.Tensor) -> TensorDict:
        loc = self.linear(observation)
        return TensorDict(loc=loc, scale=loc.abs(), batch_size=observation.shape[:-1])


def nested_policy() -> TensorDictSequential:
    first = TensorDictModule(nn.Linear(3, 4), in_keys=[("agent", "observation")],
                             out_keys=[("agent", "hidden")])
    second = TensorDictModule(nn.Linear(4, 1), in_keys=[("agent", "hidden")],
                              out_keys=["action"])
    return TensorDictSequential(first, second)


def sub_td_policy() -> TensorDictSequential:
    params = TensorDictModule(Params(), in_keys=["observation"], out_keys=["params"])
    head = TensorDictModule(nn.Identity(), in_keys=[("params", "loc")], out_keys=["action"])
    return TensorDictSequential(params, head)


def custom_lstm_policy() -> TensorDictSequential:
    lstm = LSTMModule(input_size=3, hidden_size=4, in_keys=["observation", "my_h", "my_c"],
                      out_keys=["embed", ("next", "my_h"), ("next", "my_c")])
    head = TensorDictModule(nn.Linear(4, 1), in_keys=["embed"], out_keys=["action"])
    return TensorDictSequential(lstm, head)


def env_has(env) -> set[str]:
    """What the env really hands the policy, read off a reset (not off its specs)."""
    return {key_str(k) for k in env.reset().keys(include_nested=True)}


def check_policy_wants(policy, env) -> set[str]:
    return {k for f in rltutor.check_policy(policy, env) if f.code in KEY_FINDINGS
            for k in f.keys}


def assert_agree(policy, env) -> set[str]:
    flow_env = set(rltutor.dataflow(policy).node.env_keys)
    missing = flow_env - env_has(env)
    assert check_policy_wants(policy, env) == missing
    return missing


def test_nested_keys(pendulum):
    policy = nested_policy()
    assert rltutor.dataflow(policy).node.env_keys == ("agent.observation",)
    assert assert_agree(policy, pendulum) == {"agent.observation"}
    with pytest.raises(ValueError, match="'agent.observation'"):
        rltutor.rollout(pendulum, policy, steps=3)


def test_step_writing_a_whole_sub_tensordict(pendulum):
    policy = sub_td_policy()
    # tensordict's own in_keys count ("params", "loc") as an input: "params" is not it
    assert ("params", "loc") in [as_path(k) for k in policy.in_keys]
    assert rltutor.dataflow(policy).node.env_keys == ("observation",)
    assert assert_agree(policy, pendulum) == set()
    td = rltutor.rollout(pendulum, policy, steps=3)  # used to refuse: "params.loc" missing
    assert td["params", "loc"].shape == (3, 1)


def test_lstm_state_keys_with_custom_names(pendulum):
    policy = custom_lstm_policy()
    flow_env = rltutor.dataflow(policy).node.env_keys
    assert flow_env == ("observation", "my_h", "my_c", "is_init")
    assert assert_agree(policy, pendulum) == {"my_h", "my_c", "is_init"}
    codes = [f.code for f in rltutor.check_policy(policy, pendulum)]
    assert "missing-in-key" not in codes  # the primer finding says it, once
    assert codes.count("recurrent-no-primer") == 1

    lstm = policy[0]
    fixed = TransformedEnv(pendulum, Compose(InitTracker(), lstm.make_tensordict_primer()))
    assert assert_agree(policy, fixed) == set()
    assert rltutor.rollout(fixed, policy, steps=3)["next", "my_h"].shape[0] == 3


def test_provided_both_ways():
    assert provided(("params", "loc"), ["params"])  # read part of what was written
    assert provided("params", [("params", "force", "loc")])  # read what was built leaf by leaf
    assert not provided("param", ["params"])  # a prefix of names, not of characters
    assert env_keys(sub_td_policy()) == [("observation",)]
