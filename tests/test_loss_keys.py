"""Which keys a loss really reads (issue 28 items 1-2), on every loss the lessons or
TorchRL's reference scripts (sota-implementations) use, each built the way they build it.

The rule under test: ``check_loss`` never says ✓ for a batch the loss cannot run on. Each
loss gets a batch it runs on, and then that batch with each of its entries taken out in
turn; whenever ``loss(batch)`` raises, ``check_loss`` must have a finding, and when the
error is a missing key, a finding about that key.
"""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import (
    MLP,
    Actor,
    DecisionTransformer,
    DTActor,
    OneHotCategorical,
    OnlineDTActor,
    ProbabilisticActor,
    QValueActor,
    TanhDelta,
    TanhNormal,
    ValueOperator,
)
from torchrl.objectives import (
    A2CLoss,
    ClipPPOLoss,
    CQLLoss,
    DDPGLoss,
    DiscreteSACLoss,
    DQNLoss,
    DTLoss,
    IQLLoss,
    OnlineDTLoss,
    SACLoss,
    TD3Loss,
)
from torchrl.objectives.value import GAE

from rltutor._keys import key_str
from rltutor._loss_keys import batch_keys, estimator_keys
from rltutor.diagnostics import check_loss


def _tanh_actor(env):
    net = nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[16]),
                        NormalParamExtractor())
    return ProbabilisticActor(
        TensorDictModule(net, in_keys=["observation"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=env.action_spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": env.action_spec.space.low,
                             "high": env.action_spec.space.high},
        return_log_prob=True)


def _q(features=4):
    return ValueOperator(MLP(in_features=features, out_features=1, num_cells=[16]),
                         in_keys=["observation", "action"])


def _state_value():
    return ValueOperator(MLP(in_features=3, out_features=1, num_cells=[16]),
                         in_keys=["observation"])


def _collect(env, actor, steps=8):
    env.set_seed(0)
    with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        return env.rollout(steps, actor, break_when_any_done=False)


def _dt(online, k=4):
    """The DT and online DT of TorchRL's decision_transformer scripts: a transformer
    reading the *_cat context windows, and loss.set_keys(action_target="action_cat")."""
    config = DecisionTransformer.DTConfig(n_embd=16, n_layer=1, n_head=1, n_inner=32,
                                          n_positions=3 * k, resid_pdrop=0.0, attn_pdrop=0.0)
    in_keys = ["observation_cat", "action_cat", "return_to_go_cat"]
    if online:
        net = TensorDictModule(OnlineDTActor(state_dim=3, action_dim=1, transformer_config=config),
                               in_keys=in_keys, out_keys=["loc", "scale"])
        actor = ProbabilisticActor(
            net, in_keys=["loc", "scale"], out_keys=["action"], distribution_class=TanhNormal,
            distribution_kwargs={"low": -1.0, "high": 1.0, "tanh_loc": False, "upscale": 5.0},
            cache_dist=False, return_log_prob=False)
        loss = OnlineDTLoss(actor, alpha_init=0.1, target_entropy=-1.0)
    else:
        net = TensorDictModule(DTActor(state_dim=3, action_dim=1, transformer_config=config),
                               in_keys=in_keys, out_keys=["param"])
        actor = ProbabilisticActor(
            net, in_keys=["param"], out_keys=["action"], distribution_class=TanhDelta,
            distribution_kwargs={"low": -2.0, "high": 2.0}, cache_dist=False,
            return_log_prob=False)
        loss = DTLoss(actor)
    loss.set_keys(action_target="action_cat")
    g = torch.Generator().manual_seed(0)
    batch = TensorDict(observation_cat=torch.randn(5, k, 3, generator=g),
                       action_cat=torch.rand(5, k, 1, generator=g) * 2 - 1,
                       return_to_go_cat=torch.randn(5, k, 1, generator=g), batch_size=[5])
    return loss, batch


def build(name, cartpole, pendulum):
    """(loss, a batch it runs on), built as the reference scripts build them."""
    torch.manual_seed(0)
    if name == "DQN":
        actor = QValueActor(MLP(in_features=4, out_features=2, num_cells=[16]),
                            in_keys=["observation"], spec=cartpole.action_spec)
        return (DQNLoss(actor, action_space=cartpole.action_spec, delay_value=True),
                _collect(cartpole, actor))
    if name == "discrete SAC":
        actor = ProbabilisticActor(
            TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[16]),
                             in_keys=["observation"], out_keys=["logits"]),
            in_keys=["logits"], spec=cartpole.action_spec, distribution_class=OneHotCategorical)
        qvalue = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[16]),
                                  in_keys=["observation"], out_keys=["action_value"])
        return (DiscreteSACLoss(actor, qvalue, num_actions=2, action_space=cartpole.action_spec),
                _collect(cartpole, actor))
    if name in ("DDPG", "TD3"):
        actor = Actor(MLP(in_features=3, out_features=1, num_cells=[16]),
                      in_keys=["observation"], spec=pendulum.action_spec)
        loss = (DDPGLoss(actor, _q(), delay_actor=True, delay_value=True) if name == "DDPG"
                else TD3Loss(actor, _q(), action_spec=pendulum.action_spec))
        return loss, _collect(pendulum, actor)
    if name.startswith(("ClipPPO", "A2C")):
        actor, value = _tanh_actor(pendulum), _state_value()
        loss = ClipPPOLoss(actor, value) if name.startswith("ClipPPO") else A2CLoss(actor, value)
        batch = _collect(pendulum, actor)
        if name.endswith("after GAE"):  # the reference scripts' way: advantage once per batch
            with torch.no_grad():
                batch = GAE(gamma=0.99, lmbda=0.95, value_network=value)(batch)
        return loss, batch
    actor = _tanh_actor(pendulum)
    if name == "SAC":
        return SACLoss(actor, _q(), num_qvalue_nets=2), _collect(pendulum, actor)
    if name == "IQL":
        return IQLLoss(actor, _q(), _state_value()), _collect(pendulum, actor)
    if name == "CQL":
        return CQLLoss(actor, _q()), _collect(pendulum, actor)
    return _dt(online=name == "online DT")


LOSSES = ["DQN", "DDPG", "TD3", "SAC", "discrete SAC", "ClipPPO", "ClipPPO after GAE", "A2C",
          "A2C after GAE", "IQL", "CQL", "DT", "online DT"]


def _runs(loss, batch):
    try:
        with torch.random.fork_rng(devices=[]):
            loss(batch.clone())
    except Exception as error:
        return error
    return None


@pytest.mark.parametrize("name", LOSSES)
def test_check_loss_never_passes_a_batch_the_loss_cannot_run_on(name, cartpole, pendulum):
    loss, batch = build(name, cartpole, pendulum)
    assert _runs(loss, batch) is None
    assert check_loss(loss, batch) == []
    for key in batch.keys(include_nested=True, leaves_only=True):
        lacking = batch.exclude(key)
        findings = check_loss(loss, lacking)
        error = _runs(loss, lacking)
        if error is not None:
            assert findings, f"{name} without {key}: ✓ but the loss raises {error!r}"
            if isinstance(error, KeyError):
                named = {k for f in findings for k in f.keys}
                assert key_str(key) in named, (name, key, [str(f) for f in findings])
        else:
            # a finding on a batch the loss runs on is a silent mistake: an env entry
            # (done, terminated, ...) the loss quietly takes as absent
            assert all(k.startswith("next.") for f in findings for k in f.keys), (name, key)


def test_ppo_given_an_advantage_reads_value_target_too(cartpole, pendulum):
    loss, batch = build("ClipPPO after GAE", cartpole, pendulum)
    assert {key_str(k) for k in estimator_keys(loss)} == {"advantage", "value_target"}
    assert "value_target" not in {key_str(k) for k in loss.in_keys}  # TorchRL leaves it out
    lacking = batch.exclude("value_target")
    with pytest.raises(KeyError, match="value_target"):
        loss(lacking)
    findings = check_loss(loss, lacking)
    assert [(f.code, f.keys) for f in findings] == [("loss-missing-key", ("value_target",))]
    assert "GAE" in findings[0].fix and "advantage" in findings[0].what
    # with advantage and value target given, the estimator stays idle: 'next' is not asked for
    assert check_loss(loss, batch.exclude(("next", "reward"))) == []


def test_dt_loss_does_not_ask_the_batch_for_the_action_its_actor_predicts(cartpole, pendulum):
    loss, batch = build("DT", cartpole, pendulum)
    assert "action" in {key_str(k) for k in loss.in_keys}  # stale: the target before set_keys
    assert [key_str(k) for k in batch_keys(loss)] == ["action_cat", "observation_cat",
                                                      "return_to_go_cat"]
    assert check_loss(loss, batch) == []
    # and the default target, 'action', is still asked for when it is the target
    loss.set_keys(action_target="action")
    assert "action" in {key_str(k) for k in batch_keys(loss)}
    assert [f.keys for f in check_loss(loss, batch)] == [("action",)]
