"""Recurrent state keys with custom names (issue 11, item 6): one finding each, with the fix
that works, and a refusal from rollout and explorer that names the primer."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import Compose, InitTracker, TransformedEnv
from torchrl.modules import GRUModule, LSTMModule

import rltutor
from rltutor._recurrent import recurrent_state


def codes(found) -> list[str]:
    return [f.code for f in found]


def custom_lstm(next_keys: bool = True) -> tuple[LSTMModule, TensorDictSequential]:
    state_out = [("next", "rs_h"), ("next", "rs_c")] if next_keys else ["rs_h", "rs_c"]
    lstm = LSTMModule(input_size=3, hidden_size=8, in_keys=["observation", "rs_h", "rs_c"],
                      out_keys=["embed", *state_out])
    head = TensorDictModule(nn.Linear(8, 1), in_keys=["embed"], out_keys=["action"])
    return lstm, TensorDictSequential(lstm, head)


def test_custom_names_without_primer_give_one_primer_finding(pendulum):
    _, policy = custom_lstm()
    env = TransformedEnv(pendulum, InitTracker())
    found = rltutor.check_policy(policy, env)
    assert codes(found) == ["recurrent-no-primer"]
    assert "'rs_h', 'rs_c'" in found[0].what


def test_custom_names_without_primer_or_init_tracker_give_exactly_those_two(pendulum):
    _, policy = custom_lstm()
    assert codes(rltutor.check_policy(policy, pendulum)) == ["recurrent-no-primer",
                                                            "recurrent-no-init-tracker"]
    _, at_root = custom_lstm(next_keys=False)
    assert codes(rltutor.check_policy(at_root, pendulum)) == ["recurrent-state-not-next",
                                                             "recurrent-no-init-tracker"]


def test_state_written_at_the_root_is_one_finding_with_the_working_fix(pendulum):
    lstm, policy = custom_lstm(next_keys=False)
    env = TransformedEnv(pendulum, InitTracker())
    found = rltutor.check_policy(policy, env)
    # not also "missing-in-key" ("read one of the env's keys"), nor a primer finding whose
    # fix fails: make_tensordict_primer refuses these out_keys
    assert codes(found) == ["recurrent-state-not-next"]
    assert "('next', 'rs_h'), ('next', 'rs_c')" in found[0].fix
    with pytest.raises(RuntimeError, match="next"):
        lstm.make_tensordict_primer()
    # the fix it names works: no finding left
    fixed_lstm, fixed = custom_lstm(next_keys=True)
    env = TransformedEnv(pendulum, Compose(InitTracker(), fixed_lstm.make_tensordict_primer()))
    assert codes(rltutor.check_policy(fixed, env)) == []


def test_gru_state_is_told_by_position():
    gru = GRUModule(input_size=3, hidden_size=4, in_keys=["observation", "memory"],
                    out_keys=["embed", ("next", "memory")])
    info = recurrent_state(gru)
    assert info.state == (("memory",),) and info.at_root == () and info.init == ("is_init",)


@pytest.mark.parametrize("make", ["rollout", "explorer"])
def test_rollout_and_explorer_refusal_names_the_primer(pendulum, make):
    _, policy = custom_lstm()
    env = TransformedEnv(pendulum, InitTracker())
    run = {"rollout": lambda: rltutor.rollout(env, policy, steps=5),
           "explorer": lambda: rltutor.explorer(env, policy, steps=10)}[make]
    with pytest.raises(ValueError) as error:
        run()
    message = str(error.value)
    assert message.startswith("LSTMModule reads its recurrent state 'rs_h', 'rs_c'")
    assert "env.append_transform(lstm.make_tensordict_primer())" in message


def test_with_the_primer_the_custom_state_is_carried(pendulum):
    lstm, policy = custom_lstm()
    env = TransformedEnv(pendulum, Compose(InitTracker(), lstm.make_tensordict_primer()))
    rollout_td = rltutor.rollout(env, policy, steps=5)
    torch.testing.assert_close(rollout_td["rs_h"][1:], rollout_td["next", "rs_h"][:-1])
