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


def export_recipe_policy(select: bool = True, reshape: bool = True) -> TensorDictSequential:
    # TorchRL's export recipe: the state goes in and out at the root, the caller carries it,
    # and BatchSizeTransform makes a single unbatched call look like a batch of one
    from torchrl.envs import BatchSizeTransform
    from torchrl.modules import MLP

    torch.manual_seed(0)
    lstm = LSTMModule(input_size=3, num_layers=2, hidden_size=8,
                      in_keys=["observation", "hidden0", "hidden1"],
                      out_keys=["intermediate", "hidden0", "hidden1"]).make_python_based()
    head = TensorDictModule(MLP(in_features=8, out_features=1, num_cells=[8]),
                            in_keys=["intermediate"], out_keys=["action"])
    if reshape:
        parts = [BatchSizeTransform(reshape_fn=lambda x: x.unsqueeze(0)), lstm, head,
                 BatchSizeTransform(reshape_fn=lambda x: x.squeeze(0))]
    else:
        parts = [lstm, head]
    policy = TensorDictSequential(*parts)
    if select:
        policy.select_out_keys("action", "hidden0", "hidden1")
    return policy


def test_state_carried_by_the_caller_is_told_apart_and_says_when_it_matters(pendulum):
    policy = export_recipe_policy()
    # called by hand, feeding the state back, it has memory: the state it returns changes
    # the next action
    obs, zeros = torch.ones(3), torch.zeros(2, 8)
    first = policy(observation=obs, hidden0=zeros, hidden1=zeros,
                   is_init=torch.zeros((), dtype=torch.bool))
    again = policy(observation=obs, hidden0=first[1], hidden1=first[2],
                   is_init=torch.zeros((), dtype=torch.bool))
    assert not torch.allclose(first[0], again[0])
    found = rltutor.check_policy(policy, TransformedEnv(pendulum, InitTracker()))
    assert codes(found) == ["recurrent-state-by-caller"]
    assert "'hidden0', 'hidden1'" in found[0].what and "nothing to change" in found[0].fix
    assert "env.rollout" in found[0].why and "make_tensordict_primer" in found[0].fix
    # either sign alone is enough: the state returned, or the reshape for one call
    for alone in (export_recipe_policy(reshape=False), export_recipe_policy(select=False)):
        assert codes(rltutor.check_policy(alone, TransformedEnv(pendulum, InitTracker()))) == [
            "recurrent-state-by-caller"]


def test_same_state_at_the_root_in_a_plain_policy_is_the_env_mistake(pendulum):
    # no sign of a caller carrying the state: in an env it is replaced every step
    found = rltutor.check_policy(export_recipe_policy(select=False, reshape=False),
                                 TransformedEnv(pendulum, InitTracker()))
    assert codes(found) == ["recurrent-state-not-next"]
    assert "inside env.rollout" in found[0].why and "has no memory" in found[0].why
