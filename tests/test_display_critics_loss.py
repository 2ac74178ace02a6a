"""Views of value networks, actor-critic operators and loss modules (issue 11 item 7)."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.modules import (
    MLP,
    ActorCriticOperator,
    ActorCriticWrapper,
    ActorValueOperator,
    ProbabilisticActor,
    QValueActor,
    TanhDelta,
    TanhNormal,
    ValueOperator,
)
from torchrl.objectives import ClipPPOLoss, DQNLoss, DTLoss, LossModule

from rltutor.display import dataflow, show, to_html, to_text


def _actor_critic(kind):
    torch.manual_seed(0)
    trunk = TensorDictModule(MLP(in_features=3, out_features=8, num_cells=[8]),
                             in_keys=["observation"], out_keys=["hidden"])
    head = ProbabilisticActor(
        TensorDictModule(nn.Sequential(nn.Linear(8, 2), NormalParamExtractor()),
                         in_keys=["hidden"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], distribution_class=TanhNormal)
    if kind == "critic":
        return ActorCriticOperator(trunk, head, ValueOperator(nn.Linear(9, 1),
                                                              in_keys=["hidden", "action"]))
    return ActorValueOperator(trunk, head, ValueOperator(nn.Linear(8, 1), in_keys=["hidden"]))


def test_state_value_network_says_what_it_estimates():
    text = to_text(ValueOperator(nn.Linear(3, 1), in_keys=["observation"]))
    assert "estimates state value V(s)" in text
    assert "from the environment: observation" in text


def test_q_network_inputs_do_not_all_come_from_the_env():
    text = to_text(ValueOperator(nn.Linear(4, 1), in_keys=["observation", "action"]))
    assert "state-action value Q(s, a)" in text
    assert "from collected data (env + policy): observation, action" in text
    assert "from the environment" not in text


def test_actor_value_operator_names_the_shared_key_and_its_readers():
    text = to_text(_actor_critic("value"))
    assert "shared trunk writes hidden; policy head reads hidden; value head reads hidden" in text
    assert "get_value_operator() = trunk + value head" in text


def test_actor_critic_operator_and_wrapper():
    assert "get_critic_operator() runs the whole chain" in to_text(_actor_critic("critic"))
    wrapper = ActorCriticWrapper(
        TensorDictModule(nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"]),
        ValueOperator(nn.Linear(3, 1), in_keys=["observation"]))
    assert "shared nothing: two separate networks" in to_text(wrapper)


def _dqn():
    torch.manual_seed(0)
    actor = QValueActor(MLP(in_features=4, out_features=2, num_cells=[8]),
                        in_keys=["observation"], spec=None, action_space="one_hot")
    return DQNLoss(actor, action_space="one_hot", delay_value=True)


def test_loss_card_reads_from_a_batch_not_the_environment():
    text = to_text(_dqn())
    assert text.splitlines()[0].startswith("DQNLoss  action, observation, next.{")
    assert "from a batch of collected data: action, observation" in text
    assert "from the environment" not in text
    assert "target copies value_network" in text
    assert "value_network: QValueActor" in text
    html = to_html(_dqn())
    assert "from a batch of collected data" in html and "from env" not in html


def test_loss_dataflow_runs_the_network_again_on_the_batch():
    text = str(dataflow(_dqn()))
    assert "from a batch of collected data" in text
    assert "observation (batch)" in text and "(env)" not in text
    assert "run again on the batch" in text
    assert "must come from a batch of collected data" in dataflow(_dqn()).to_html()


def _ppo():
    """ClipPPOLoss as TorchRL's PPO scripts build it: a TanhNormal actor, a state-value critic."""
    torch.manual_seed(0)
    actor = ProbabilisticActor(
        TensorDictModule(nn.Sequential(nn.Linear(3, 2), NormalParamExtractor()),
                         in_keys=["observation"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], distribution_class=TanhNormal, return_log_prob=True)
    return ClipPPOLoss(actor, ValueOperator(nn.Linear(3, 1), in_keys=["observation"]))


def test_ppo_loss_shows_the_keys_it_reads_only_when_the_batch_brings_them():
    assert "also reads advantage, value_target when the batch brings them" in to_text(_ppo())
    details = dict(show(_ppo()).node.details)
    assert "must bring 'value_target' too" in details["also reads"]
    flow = dataflow(_ppo()).node
    estimator, loss = flow.steps[-2:]
    assert estimator.name == "GAE" and estimator.writes == ("advantage", "value_target")
    assert estimator.reads[0] == "state_value" and "next.reward" in estimator.reads
    assert "only when the batch has no 'advantage'" in estimator.note
    assert {"advantage", "value_target"} <= set(loss.reads)
    assert "advantage" not in loss.env_reads  # written by the step before, not the batch


def test_dt_loss_does_not_list_its_own_prediction_as_a_batch_input():
    torch.manual_seed(0)
    net = TensorDictModule(nn.Linear(3, 1), in_keys=["observation_cat"], out_keys=["param"])
    actor = ProbabilisticActor(net, in_keys=["param"], out_keys=["action"],
                               distribution_class=TanhDelta,
                               distribution_kwargs={"low": -2.0, "high": 2.0})
    loss = DTLoss(actor)
    loss.set_keys(action_target="action_cat")  # as TorchRL's decision_transformer scripts do
    card = show(loss).node
    assert card.env_keys == ("action_cat", "observation_cat")
    flow = dataflow(loss).node
    assert "action" not in flow.env_keys and "action_cat" in flow.env_keys


def test_custom_loss_without_in_keys_says_so():
    class DDPGLoss(LossModule):  # the DDPG tutorial's hand-written loss
        def forward(self, td):
            return td

    text = to_text(DDPGLoss())
    assert "- -> -" not in text
    assert text.splitlines()[0] == "DDPGLoss"
    assert "none declared" in text
    assert "none declared" in show(DDPGLoss()).to_html()


def test_a_batch_shown_with_its_loss_marks_what_the_loss_reads(cartpole):
    from rltutor.policies import make_qvalue_policy
    from rltutor.rollouts import rollout

    policy = make_qvalue_policy(cartpole)
    loss = DQNLoss(policy, action_space=cartpole.action_spec, delay_value=False)
    text = to_text(rollout(cartpole, policy, steps=5, seed=0, break_when_done=False), module=loss)
    marked = [line.split()[1] for line in text.splitlines() if "[batch]" in line
              and not line.startswith("[batch]")]
    assert marked == ["action", "observation", "done", "observation", "reward", "terminated"]
    assert "[batch] read from collected data (env + policy), as a loss" in text
    assert "[input]" not in text and "must come from the environment" not in text
    html = show(rollout(cartpole, policy, steps=5, seed=0), module=loss).to_html()
    assert "from data" in html and "from env" not in html


def test_q_network_dataflow_reads_collected_data():
    text = str(dataflow(ValueOperator(nn.Linear(4, 1), in_keys=["observation", "action"])))
    assert "from collected data (env + policy): observation, action" in text
    assert "(env)" not in text and "(batch)" in text
    v_text = str(dataflow(ValueOperator(nn.Linear(3, 1), in_keys=["observation"])))
    assert "from the environment: observation" in v_text


# -- one flow rule: the badges of show(td, module=m) and dataflow(m) agree for every kind --


def _kinds(cartpole, pendulum):
    from tensordict.nn import TensorDictSequential
    from torchrl.modules import LSTMModule

    from rltutor.policies import make_qvalue_policy

    q_policy = make_qvalue_policy(cartpole)
    q_net = ValueOperator(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1)),
                          in_keys=["observation", "action"])
    lstm = LSTMModule(input_size=3, hidden_size=4, in_key="observation", out_key="features")
    return {
        "value network": ValueOperator(nn.Linear(4, 1), in_keys=["observation"]),
        "Q-network": q_net,
        "loss": DQNLoss(q_policy, action_space=cartpole.action_spec, delay_value=False),
        "recurrent policy": TensorDictSequential(
            lstm, TensorDictModule(nn.Linear(4, 1), in_keys=["features"], out_keys=["action"])),
        "q policy": q_policy,
    }


@pytest.mark.parametrize("kind", ["value network", "Q-network", "loss", "recurrent policy",
                                  "q policy"])
def test_badges_and_dataflow_agree(cartpole, pendulum, kind):
    from rltutor.display._build import flow_for
    from rltutor.display._tensordict import flow_marks

    module = _kinds(cartpole, pendulum)[kind]
    flow = dataflow(module).node
    assert flow == flow_for(module)
    marks = flow_marks(flow)
    from_env = flow.inputs_from == "the environment"
    for key in flow.env_keys:
        assert marks[key][0] == ("input" if from_env else "batch"), (kind, key, marks)
    if kind == "Q-network":  # the bug this rule fixed: the action is the policy's, not env's
        assert marks["action"] == ("batch",) and marks["state_action_value"] == ("value",)
