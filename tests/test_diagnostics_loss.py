"""check_loss: a loss lined up against a batch, written the way TorchRL users build them."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MLP, Actor, ProbabilisticActor, QValueActor, TanhNormal, ValueOperator
from torchrl.objectives import ClipPPOLoss, DDPGLoss, DQNLoss, LossModule
from torchrl.objectives.value import GAE

from rltutor._keys import key_str
from rltutor.diagnostics import check_loss
from rltutor.diagnostics._loss import batch_keys, is_loss_module, loss_networks
from rltutor.rollouts import rollout


def collect(env, policy, steps, exploration="deterministic"):
    """A seeded rollout without gradients, as collectors make them."""
    with torch.no_grad():
        return rollout(env, policy, steps=steps, seed=0, exploration=exploration,
                       break_when_done=False)


@pytest.fixture
def dqn(cartpole):
    torch.manual_seed(0)
    actor = QValueActor(MLP(in_features=4, out_features=2, num_cells=[16]),
                        in_keys=["observation"], spec=cartpole.action_spec)
    return DQNLoss(actor, action_space=cartpole.action_spec, delay_value=True), actor


@pytest.fixture
def ppo(pendulum):
    torch.manual_seed(0)
    backbone = TensorDictModule(
        nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[16]), NormalParamExtractor()),
        in_keys=["observation"], out_keys=["loc", "scale"])
    actor = ProbabilisticActor(backbone, in_keys=["loc", "scale"], spec=pendulum.action_spec,
                               distribution_class=TanhNormal, return_log_prob=True)
    value = ValueOperator(MLP(in_features=3, out_features=1, num_cells=[16]),
                          in_keys=["observation"])
    return ClipPPOLoss(actor, value), actor, value


def test_rollout_of_the_loss_own_actor_passes(cartpole, dqn):
    loss, actor = dqn
    assert check_loss(loss, collect(cartpole, actor, 10)) == []


def test_missing_action_names_the_policy(cartpole, dqn):
    loss, actor = dqn
    findings = check_loss(loss, collect(cartpole, actor, 10).exclude("action"))
    assert [f.keys for f in findings] == [("action",)]
    assert "policy" in findings[0].why and "env.rollout(n, policy)" in findings[0].fix
    assert "batch of collected data" in findings[0].why


def test_hand_made_batch_lacks_the_next_entries(dqn):
    loss, _ = dqn
    batch = TensorDict(observation=torch.zeros(5, 4), action=torch.zeros(5, 2), batch_size=[5])
    findings = check_loss(loss, batch)
    assert {f.keys[0] for f in findings} == {"next.done", "next.observation", "next.reward",
                                             "next.terminated"}
    assert all("the environment" in f.why for f in findings)


def test_batch_keys_leave_out_what_the_loss_computes(pendulum):
    torch.manual_seed(0)
    actor = Actor(MLP(in_features=3, out_features=1, num_cells=[16]), in_keys=["observation"])
    critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[16]),
                           in_keys=["observation", "action"])
    loss = DDPGLoss(actor, critic, delay_actor=True, delay_value=True)
    raw = {key_str(k) for k in loss.in_keys}
    assert {"next.action", "priority_weight"} <= raw  # TorchRL lists them ...
    needed = {key_str(k) for k in batch_keys(loss)}
    assert "next.action" not in needed and "priority_weight" not in needed  # ... we don't
    assert check_loss(loss, collect(pendulum, actor, 5)) == []


def test_batch_keys_are_sorted_root_first(dqn):
    keys = [key_str(k) for k in batch_keys(dqn[0])]
    assert keys == ["action", "observation", "next.done", "next.observation", "next.reward",
                    "next.terminated"]


def test_ppo_missing_log_prob_names_the_probabilistic_actor(pendulum, ppo):
    loss, actor, _ = ppo
    td = collect(pendulum, actor, 8, exploration="random").exclude("action_log_prob")
    findings = check_loss(loss, td)
    assert [f.keys for f in findings] == [("action_log_prob",)]
    assert "return_log_prob=True" in findings[0].fix


def test_ppo_batch_collected_with_grad_is_found(pendulum, ppo):
    loss, actor, _ = ppo
    with set_exploration_type(ExplorationType.RANDOM):
        td = pendulum.rollout(8, actor)  # no torch.no_grad(): the learner's slip
    codes = [f.code for f in check_loss(loss, td)]
    assert codes == ["loss-batch-requires-grad"]
    with pytest.raises(RuntimeError, match="requires grad"):  # what TorchRL says instead
        loss(td)


def test_old_log_prob_name_is_recognised(pendulum, ppo):
    loss, actor, _ = ppo
    td = collect(pendulum, actor, 8, exploration="random")
    td.rename_key_("action_log_prob", "sample_log_prob")
    findings = check_loss(loss, td)
    assert [f.code for f in findings] == ["sample-log-prob"]


def test_a_module_passed_as_writer_is_named(pendulum, ppo):
    loss, actor, value = ppo
    loss.set_keys(advantage="advantage")
    gae = GAE(gamma=0.9, lmbda=0.9, value_network=value)
    td = collect(pendulum, actor, 8, exploration="random")
    # advantage is not among ClipPPOLoss's in_keys (it computes it when absent) ...
    assert check_loss(loss, td, modules=[gae]) == []
    # ... but a key a given module writes is credited to that module
    from rltutor.diagnostics._loss import _writer
    assert _writer(("advantage",), loss, [gae])[0] == "GAE"


def test_refuses_what_is_not_a_loss(cartpole, dqn):
    _, actor = dqn
    with pytest.raises(TypeError, match="TorchRL loss module"):
        check_loss(actor, TensorDict())
    with pytest.raises(TypeError, match="must be a TensorDict"):
        check_loss(dqn[0], {"action": 1})


class HandWrittenDDPGLoss(LossModule):
    """A DDPG loss written by hand, the way TorchRL's DDPG tutorial writes one: functional
    copies of the networks with target copies, and no in_keys declared."""

    def __init__(self, actor, value):
        super().__init__()
        self.convert_to_functional(actor, "actor_network", create_target_params=True)
        self.convert_to_functional(value, "value_network", create_target_params=True)

    def forward(self, td):
        with self.actor_network_params.to_module(self.actor_network):
            acted = self.actor_network(td.select(*self.actor_network.in_keys).clone())
        with self.value_network_params.detach().to_module(self.value_network):
            loss_actor = -self.value_network(acted).get("state_action_value").mean()
        with self.value_network_params.to_module(self.value_network):
            predicted = self.value_network(td.clone(False)).get("state_action_value")
        following = td.get("next").clone(False)
        with torch.no_grad():
            with self.target_actor_network_params.to_module(self.actor_network):
                self.actor_network(following)
            with self.target_value_network_params.to_module(self.value_network):
                next_value = self.value_network(following).get("state_action_value")
        target = following["reward"] + 0.99 * (~following["terminated"]) * next_value
        return TensorDict(loss_actor=loss_actor,
                          loss_value=(predicted - target).pow(2).mean())


@pytest.fixture
def hand_written(pendulum):
    torch.manual_seed(0)
    actor = Actor(MLP(in_features=3, out_features=1, num_cells=[16]), in_keys=["observation"])
    value = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[16]),
                          in_keys=["observation", "action"])
    return HandWrittenDDPGLoss(actor, value), actor


def test_hand_written_loss_is_checked_by_running_it(pendulum, hand_written):
    loss, actor = hand_written
    batch = collect(pendulum, actor, 8)
    loss(batch.clone())  # it runs on a collected batch ...
    ok = check_loss(loss, batch)
    assert ok == [] and str(ok).startswith("✓ HandWrittenDDPGLoss declares no in_keys")
    assert "run once on a copy" in ok._repr_html_()
    # ... and not on one without actions: found by the same run, named, with its writer
    with pytest.raises(KeyError):
        loss(batch.exclude("action"))
    findings = check_loss(loss, batch.exclude("action"))
    assert [f.keys for f in findings] == [("action",)]
    assert "found by running it on a copy" in findings[0].what
    assert "env.rollout(n, policy)" in findings[0].fix


def test_hand_written_loss_on_an_empty_batch_says_nothing_was_checked(pendulum, hand_written):
    loss, actor = hand_written
    text = str(check_loss(loss, collect(pendulum, actor, 8)[:0]))
    assert text.startswith("? nothing could be checked") and "✓" not in text


def test_a_loss_that_fails_for_another_reason_is_reported(pendulum, hand_written):
    loss, actor = hand_written
    batch = collect(pendulum, actor, 8)
    batch["observation"] = torch.zeros(8, 5)  # a wider observation than the networks take
    findings = check_loss(loss, batch)
    assert [f.code for f in findings] == ["loss-fails-on-batch"]
    assert "RuntimeError" in findings[0].what


def test_the_trial_run_leaves_the_loss_and_the_random_state_alone(pendulum, ppo):
    loss, actor, _ = ppo
    batch = collect(pendulum, actor, 8, exploration="random")
    params = {k: v.clone() for k, v in loss.state_dict().items()}
    rng = torch.get_rng_state()
    assert check_loss(loss, batch) == []
    assert torch.equal(rng, torch.get_rng_state())
    assert loss._value_estimator is None  # not made on the learner's loss by the trial
    assert all(torch.equal(v, params[k]) for k, v in loss.state_dict().items())


def test_custom_loss_without_in_keys_and_networks():
    class MyLoss(LossModule):
        def forward(self, td):
            return td

    assert is_loss_module(MyLoss()) and not is_loss_module(nn.Linear(1, 1))
    assert loss_networks(MyLoss()) == [] and batch_keys(MyLoss()) == []
    assert str(check_loss(MyLoss(), TensorDict())).startswith("✓ MyLoss declares no in_keys")


def test_a_reward_at_the_root_is_pointed_out_but_not_the_observation(dqn):
    loss, _ = dqn
    batch = TensorDict(observation=torch.zeros(5, 4), action=torch.zeros(5, 2),
                       reward=torch.zeros(5, 1), batch_size=[5])
    fixes = {f.keys[0]: f.fix for f in check_loss(loss, batch)}
    assert "the batch has reward: the same name at another place" in fixes["next.reward"]
    assert "the same name" not in fixes["next.observation"]  # the loss reads it at the root


def test_gradients_on_keys_the_loss_recomputes_are_no_finding(cartpole, dqn):
    loss, actor = dqn
    td = cartpole.rollout(10, actor)  # with gradients: action_value keeps its graph
    assert td["action_value"].requires_grad and not td["action"].requires_grad
    assert check_loss(loss, td) == []  # DQNLoss reads neither action_value nor its graph
