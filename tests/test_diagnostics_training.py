"""check_training: each silent loop mistake is named; the course's correct loops are not."""

from __future__ import annotations

import copy

import pytest
import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.collectors import Collector
from torchrl.data import Categorical, LazyTensorStorage, ReplayBuffer, SliceSampler
from torchrl.envs import ExplorationType, GymEnv
from torchrl.modules import (
    MLP,
    EGreedyModule,
    LSTMModule,
    ProbabilisticActor,
    QValueModule,
    TanhNormal,
    ValueOperator,
)
from torchrl.objectives import ClipPPOLoss, DQNLoss, HardUpdate, SACLoss, SoftUpdate
from torchrl.objectives.value import GAE

import rltutor
from rltutor.diagnostics import Findings, check_training


def codes(findings) -> list[str]:
    assert isinstance(findings, Findings)
    return [f.code for f in findings]


def q_policy(env, network=None):
    network = network or MLP(in_features=4, out_features=2, num_cells=[32, 32])
    value_net = TensorDictModule(network, in_keys=["observation"], out_keys=["action_value"])
    return TensorDictSequential(value_net, QValueModule(spec=env.action_spec))


@pytest.fixture
def cartpole():
    return rltutor.make_env("CartPole-v1", seed=0)


@pytest.fixture
def dqn(cartpole):
    """Lesson 11's DQN set-up: the parts of a correct loop, and a filled buffer."""
    torch.manual_seed(0)
    policy = q_policy(cartpole)
    egreedy = EGreedyModule(spec=cartpole.action_spec, eps_init=1.0, eps_end=0.05,
                            annealing_num_steps=1_000)
    loss = DQNLoss(policy, action_space=cartpole.action_spec, delay_value=True)
    loss.make_value_estimator(gamma=0.99)
    buffer = ReplayBuffer(storage=LazyTensorStorage(500), batch_size=32,
                          generator=torch.Generator().manual_seed(0))
    buffer.extend(cartpole.rollout(60, TensorDictSequential(policy, egreedy),
                                   break_when_any_done=False))
    return dict(policy=policy, env=cartpole, exploration=egreedy, loss=loss,
                optimizer=torch.optim.Adam(loss.parameters(), lr=1e-3),
                target_updater=SoftUpdate(loss, eps=0.99), buffer=buffer)


def step(batch, loss, optimizer, target_updater):
    value_loss = loss(batch)["loss"]
    optimizer.zero_grad()
    value_loss.backward()
    optimizer.step()
    target_updater.step()


def td_target(batch, loss, *, done=("next", "terminated")):
    next_value = batch["next", "observation"].sum(-1)  # any function of the next state
    return batch["next", "reward"].squeeze(-1) + 0.99 * next_value * ~batch[done].squeeze(-1)


# --- correct loops: no finding -----------------------------------------------------------


def test_lesson11_dqn_loop_has_no_finding(dqn):
    collector = Collector(dqn["env"], TensorDictSequential(dqn["policy"], dqn["exploration"]),
                          frames_per_batch=10, total_frames=100,
                          auto_register_policy_transforms=False)
    found = check_training(**dqn, collector=collector, update=step, td_target=td_target,
                           total_frames=1_000)
    collector.shutdown()
    assert codes(found) == [], found


def test_dqn_with_hard_update_and_no_buffer_has_no_finding(cartpole):
    policy = q_policy(cartpole)
    loss = DQNLoss(policy, action_space=cartpole.action_spec, delay_value=True)
    found = check_training(policy=policy, env=cartpole, loss=loss,
                           optimizer=torch.optim.Adam(loss.parameters()),
                           target_updater=HardUpdate(loss, value_network_update_interval=50))
    assert codes(found) == [], found


def test_ppo_setup_has_no_finding():
    env = GymEnv("CartPole-v1", categorical_action_encoding=True)
    torch.manual_seed(0)
    logits = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[32]),
                              in_keys=["observation"], out_keys=["logits"])
    actor = ProbabilisticActor(logits, in_keys=["logits"], spec=env.action_spec,
                               distribution_class=torch.distributions.Categorical,
                               return_log_prob=True)
    critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[32]),
                           in_keys=["observation"])
    loss = ClipPPOLoss(actor, critic, clip_epsilon=0.2, entropy_coeff=0.01)
    gae = GAE(gamma=0.99, lmbda=0.95, value_network=critic)
    with torch.no_grad():  # as a Collector collects
        batch = gae(env.rollout(64, actor, break_when_any_done=False))
    found = check_training(policy=actor, env=env, loss=loss, batch=batch,
                           optimizer=torch.optim.Adam(loss.parameters(), lr=1e-3))
    assert codes(found) == [], found


def test_sac_setup_has_no_finding():
    env = rltutor.make_env("Pendulum-v1", seed=0)
    torch.manual_seed(0)
    net = nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[32]),
                        NormalParamExtractor())
    actor = ProbabilisticActor(
        TensorDictModule(net, in_keys=["observation"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=env.action_spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": -2.0, "high": 2.0})
    qvalue = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[32]),
                           in_keys=["observation", "action"], out_keys=["state_action_value"])
    loss = SACLoss(actor, qvalue, num_qvalue_nets=2)
    loss.make_value_estimator(gamma=0.99)
    buffer = ReplayBuffer(storage=LazyTensorStorage(100), batch_size=16,
                          generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        buffer.extend(env.rollout(40, actor))
    found = check_training(policy=actor, env=env, loss=loss, buffer=buffer,
                           optimizer=torch.optim.Adam(loss.parameters(), lr=1e-3),
                           target_updater=SoftUpdate(loss, eps=0.995))
    assert codes(found) == [], found


# --- your objects and your random state are left alone ----------------------------------


def test_learner_objects_and_rng_are_untouched(dqn):
    params = [p.detach().clone() for p in dqn["loss"].parameters()]
    targets = [b.clone() for b in dqn["loss"].buffers()]
    eps, frames = dqn["exploration"].eps.clone(), len(dqn["buffer"])
    state = torch.random.get_rng_state()
    gen_state = dqn["buffer"]._sampler  # the sampler object itself must not be replaced
    check_training(**dqn, update=step)
    assert torch.equal(state, torch.random.get_rng_state())
    assert all(torch.equal(a, b) for a, b in zip(params, dqn["loss"].parameters()))
    assert all(torch.equal(a, b) for a, b in zip(targets, dqn["loss"].buffers()))
    assert not dqn["optimizer"].state  # the dry run stepped a copy, not this Adam
    assert all(p.grad is None for p in dqn["loss"].parameters())
    assert torch.equal(eps, dqn["exploration"].eps) and len(dqn["buffer"]) == frames
    assert dqn["buffer"]._sampler is gen_state


# --- each mistake, caught with the right finding ------------------------------------------


def test_forgotten_target_step_is_target_frozen(dqn):
    def no_target(batch, loss, optimizer, target_updater):
        value_loss = loss(batch)["loss"]
        optimizer.zero_grad()
        value_loss.backward()
        optimizer.step()

    found = check_training(**dqn, update=no_target)
    assert codes(found) == ["target-frozen"]
    assert "target_updater.step()" in found[0].fix


def test_forgotten_zero_grad_is_grad_accumulates(dqn):
    def no_zero(batch, loss, optimizer, target_updater):
        loss(batch)["loss"].backward()
        optimizer.step()
        target_updater.step()

    assert codes(check_training(**dqn, update=no_zero)) == ["grad-accumulates"]


def test_zero_grad_after_the_step_is_fine(dqn):
    def zero_after(batch, loss, optimizer, target_updater):
        loss(batch)["loss"].backward()
        optimizer.step()
        optimizer.zero_grad()
        target_updater.step()

    assert codes(check_training(**dqn, update=zero_after)) == []


def test_updater_of_another_loss(dqn):
    other = DQNLoss(dqn["policy"], action_space=dqn["env"].action_spec, delay_value=True)
    found = check_training(**{**dqn, "target_updater": SoftUpdate(other, eps=0.99)})
    assert codes(found) == ["target-updater-other-loss"]


def test_soft_update_eps_read_as_tau(dqn):
    found = check_training(**{**dqn, "target_updater": SoftUpdate(dqn["loss"], eps=0.005)})
    assert codes(found) == ["target-updater-eps"]
    assert "tau=0.005" in found[0].fix


def test_optimizer_missing_parameters(dqn):
    head = list(dqn["policy"][0].module[-1].parameters())
    found = check_training(**{**dqn, "optimizer": torch.optim.Adam(head)})
    assert codes(found) == ["optimizer-missing-params"]
    assert "4 of the loss's 6" in found[0].what


def test_loss_built_from_a_copy_of_the_policy(dqn):
    loss = DQNLoss(copy.deepcopy(dqn["policy"]), action_space=dqn["env"].action_spec,
                   delay_value=True)
    found = check_training(**{**dqn, "loss": loss, "target_updater": SoftUpdate(loss, eps=0.99),
                              "optimizer": torch.optim.Adam(loss.parameters())})
    assert codes(found) == ["policy-not-in-loss"]


class _Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head = nn.Linear(4, 16), nn.Linear(16, 2)

    def forward(self, observation):
        return self.head(torch.relu(self.body(observation)).detach())


def test_stray_detach_is_no_gradient(cartpole, dqn):
    policy = q_policy(cartpole, _Detached())
    loss = DQNLoss(policy, action_space=cartpole.action_spec, delay_value=True)
    found = check_training(policy=policy, env=cartpole, loss=loss, buffer=dqn["buffer"],
                           optimizer=torch.optim.Adam(loss.parameters()),
                           target_updater=SoftUpdate(loss, eps=0.99))
    assert codes(found) == ["no-gradient"]
    assert "body.weight" in found[0].what


def test_integer_action_for_one_hot_spec(cartpole):
    spec = Categorical(2)
    policy = TensorDictSequential(
        TensorDictModule(nn.Linear(4, 2), in_keys=["observation"], out_keys=["action_value"]),
        QValueModule(spec=spec))
    loss = DQNLoss(policy, action_space=spec, delay_value=True)
    found = check_training(policy=policy, env=cartpole, loss=loss,
                           optimizer=torch.optim.Adam(loss.parameters()),
                           target_updater=SoftUpdate(loss, eps=0.99))
    assert "action-encoding" in codes(found)


@pytest.mark.parametrize(("done", "code"), [(("done",), "done-from-root"),
                                            (("next", "done"), "truncated-as-terminated")])
def test_hand_written_target_reads_the_wrong_flag(dqn, done, code):
    def target(batch, loss):
        return td_target(batch, loss, done=done)

    assert codes(check_training(loss=dqn["loss"], buffer=dqn["buffer"],
                                td_target=target)) == [code]


def test_target_that_never_stops(dqn):
    def forever(batch):
        return batch["next", "reward"].squeeze(-1) + 0.99 * batch["next", "observation"].sum(-1)

    assert codes(check_training(loss=dqn["loss"], buffer=dqn["buffer"],
                                td_target=forever)) == ["no-termination"]


def test_loss_reading_done_as_terminated(dqn):
    dqn["loss"].set_keys(terminated="done")
    assert "truncated-as-terminated" in codes(check_training(loss=dqn["loss"]))


def test_exploration_that_does_not_anneal_within_the_run(dqn):
    found = check_training(exploration=dqn["exploration"], total_frames=400)
    assert codes(found) == ["exploration-schedule"]
    assert "ends at 0.62" in found[0].what


def test_collector_without_exploration(dqn):
    greedy = Collector(dqn["env"], dqn["policy"], frames_per_batch=10, total_frames=20,
                       auto_register_policy_transforms=False)
    deterministic = Collector(dqn["env"], TensorDictSequential(dqn["policy"],
                                                               dqn["exploration"]),
                              frames_per_batch=10, total_frames=20,
                              exploration_type=ExplorationType.DETERMINISTIC,
                              auto_register_policy_transforms=False)
    assert codes(check_training(collector=greedy, exploration=dqn["exploration"])) == [
        "collector-no-exploration"]
    assert codes(check_training(collector=deterministic, exploration=dqn["exploration"])) == [
        "collector-deterministic"]
    greedy.shutdown()
    deterministic.shutdown()


def test_dropout_left_in_training_mode_at_evaluation(cartpole):
    net = nn.Sequential(nn.Linear(4, 64), nn.Dropout(0.5), nn.Linear(64, 2))
    policy = q_policy(cartpole, net)
    found = check_training(policy=policy, env=cartpole)
    assert codes(found) == ["eval-not-deterministic"]
    assert "policy.eval()" in found[0].fix
    policy.eval()
    assert codes(check_training(policy=policy, env=cartpole)) == []


def test_recurrent_loss_on_slices_without_recurrent_mode():
    from torchrl.modules import set_recurrent_mode

    lstm = LSTMModule(input_size=4, hidden_size=8, in_keys=["observation", "h", "c"],
                      out_keys=["embed", ("next", "h"), ("next", "c")])
    head = TensorDictModule(nn.Linear(8, 2), in_keys=["embed"], out_keys=["action_value"])
    spec = rltutor.make_env("CartPole-v1").action_spec
    loss = DQNLoss(TensorDictSequential(lstm, head, QValueModule(spec=spec)),
                   action_space=spec, delay_value=True)
    buffer = ReplayBuffer(storage=LazyTensorStorage(100), batch_size=20,
                          sampler=SliceSampler(slice_len=5))
    assert codes(check_training(loss=loss, buffer=buffer)) == ["recurrent-mode-off"]
    with set_recurrent_mode(True):
        assert codes(check_training(loss=loss, buffer=buffer)) == []
    plain = ReplayBuffer(storage=LazyTensorStorage(100), batch_size=20)
    assert codes(check_training(loss=loss, buffer=plain)) == []


def test_bad_input_says_what_is_accepted(dqn):
    with pytest.raises(TypeError, match="optimizer"):
        check_training(loss=dqn["loss"], optimizer="adam")


def test_exported_from_the_top_level():
    assert rltutor.check_training is check_training


def test_hand_written_update_on_the_network_itself_has_no_finding(dqn):
    # lesson 15's update: it calls loss.value_network directly (a copied loss must still
    # share its parameters with its network) and swaps the target copy in with to_module
    def target(batch, loss):
        with torch.no_grad(), loss.target_value_network_params.to_module(loss.value_network):
            best = loss.value_network(batch["next"].clone())["action_value"].max(-1).values
        return batch["next", "reward"].squeeze(-1) + 0.99 * best * ~batch[
            "next", "terminated"].squeeze(-1)

    def by_hand(batch, loss, optimizer, target_updater):
        values = loss.value_network(batch.clone())["action_value"]
        taken = (values * batch["action"]).sum(-1)
        value_loss = torch.nn.functional.smooth_l1_loss(taken, target(batch, loss))
        optimizer.zero_grad()
        value_loss.backward()
        optimizer.step()
        target_updater.step()

    found = check_training(**dqn, update=by_hand, td_target=target)
    assert codes(found) == [], found
    assert codes(check_training(**dqn, update=by_hand)) == []  # after to_module ran
