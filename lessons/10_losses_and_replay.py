# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 10 — Losses and replay: who reads the keys a policy writes
#
# Nine lessons built policies and value heads that write `action`, `action_log_prob`,
# `chosen_action_value`, `state_value`. This lesson meets their readers: TorchRL's
# **loss modules**, which turn a batch of collected data into numbers to minimise, and
# the **replay buffers** those batches come from. Nothing is trained yet (that is lesson
# 11); here we look at what goes in and out.
#
# **What you will learn**
# - a loss reads a *batch of collected data*, not the environment; it runs its networks
#   again on that batch
# - `DQNLoss` on lesson 05's Q-value actor, `ClipPPOLoss` with `GAE` on lesson 03's actor
#   and lesson 09's value head, `DDPGLoss` with a Q(s, a) network
# - what PPO's first loss terms say about an untrained critic, and `normalize_advantage`;
#   what `DQNLoss` computes, by writing it yourself
# - how to line up what a loss needs against what a batch holds, which module writes each
#   missing key, and what error you get when one is missing
# - target networks: `delay_value`, `SoftUpdate` and `HardUpdate`, copies that lag behind
# - `ReplayBuffer` with `LazyTensorStorage`; uniform sampling, `SamplerWithoutReplacement`,
#   and `SliceSampler` for whole pieces of trajectories (lesson 06's recurrent replay);
#   whole trajectories side by side, padded, with a mask

# %%
import logging

import ipywidgets as widgets
import torch
from tensordict import TensorDict
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.data.replay_buffers import RandomSampler, SamplerWithoutReplacement, SliceSampler
from torchrl.modules import MLP, Actor, LSTMModule, ProbabilisticActor, QValueActor, TanhNormal
from torchrl.modules import ValueOperator, set_recurrent_mode
from torchrl.objectives import ClipPPOLoss, DDPGLoss, DQNLoss, HardUpdate, SoftUpdate
from torchrl.objectives.value import GAE

# %%
import rltutor
from rltutor.exercises import lesson10 as ex
from rltutor.plots import PALETTE, make_picture

logging.getLogger("torchrl").setLevel(logging.WARNING)  # no timestamped INFO lines
torch.set_num_threads(1)
torch.manual_seed(0)
cartpole = rltutor.make_env("CartPole-v1", seed=0)

# %% [markdown]
# ## 1. `DQNLoss` reads a batch, not the environment
#
# Start from lesson 05's Q-value actor: a network writing `action_value`, and the argmax
# writing `action` and `chosen_action_value`. `DQNLoss` takes that actor and the action
# spec. Its card says where its inputs come from:

# %%
q_actor = QValueActor(MLP(in_features=4, out_features=2, num_cells=[32]),
                      in_keys=["observation"], spec=cartpole.action_spec)
dqn_loss = DQNLoss(q_actor, action_space=cartpole.action_spec, delay_value=False)
rltutor.show(dqn_loss)

# %% [markdown]
# Read the first line: the loss needs the `observation` and the `action` that was taken,
# and from the step that followed, `next.reward`, `next.done`, `next.terminated` and
# `next.observation`. Everything a rollout holds; nothing a loss could get from an
# environment in one call. (`loss.in_keys` lists the same keys, in an order that changes
# from one Python process to the next, so rltutor sorts them.)
#
# `action_value` and `chosen_action_value` are *not* among the inputs, although the actor
# wrote them during the rollout. The loss runs its network **again** on the batch, with
# gradients, because the stored values came from older parameters. The dataflow shows it:

# %%
rltutor.dataflow(dqn_loss)

# %% [markdown]
# A batch is just a rollout here. Calling the loss returns a TensorDict of loss terms;
# `backward()` sends gradients into the Q-network. And the stored values really are
# ignored: shift them by 100 and the loss does not move.

# %%
with torch.no_grad():  # collected data carries no gradients
    batch = rltutor.rollout(cartpole, q_actor, steps=64, exploration="deterministic", seed=0,
                            break_when_done=False)
loss_td = dqn_loss(batch)
loss_td["loss"].backward()
print("loss terms:", list(loss_td.keys()), "| loss =", round(loss_td["loss"].item(), 4))
grad = q_actor.module[0].module[0].weight.grad
print("gradient reached the Q-network:", bool(grad.abs().sum() > 0))
doctored = batch.clone()
doctored["chosen_action_value"] += 100
doctored["action_value"] += 100
print("same loss with the stored values shifted by 100:",
      torch.allclose(dqn_loss(doctored)["loss"], loss_td["loss"]))

# %% [markdown]
# ## 2. What the loss needs against what the batch holds
#
# A batch built by hand is the classic way to meet a loss's error messages. Here the
# reward sits at the root, where it seems natural, and nothing describes the next step:

# %%
hand_made = TensorDict(observation=batch["observation"], action=batch["action"],
                       reward=batch["next", "reward"], batch_size=[64])
with rltutor.expect_error(AttributeError):
    dqn_loss(hand_made)

# %% [markdown]
# That line names no key at all. `rltutor.check_loss` lines the loss's inputs up against the
# batch and says, for each missing key, which module writes it:

# %%
rltutor.check_loss(dqn_loss, hand_made)

# %% [markdown]
# Every finding points at the same fix: a batch comes from a rollout or a collector,
# where the environment writes its answer under `"next"`. (`step_mdp`, which moves
# `"next"` up to the root between steps, also drops it: it is for acting, not for
# storing.) On the rollout itself there is nothing to say:

# %%
print(rltutor.check_loss(dqn_loss, batch))

# %% [markdown]
# ## 3. `ClipPPOLoss` and `GAE`: the log-probability and the advantage
#
# PPO needs more from the collection step. Its actor is lesson 03's `ProbabilisticActor`
# (with `return_log_prob=True`), its critic a value head as in lesson 09:

# %%
torch.manual_seed(0)
pendulum = rltutor.make_env("Pendulum-v1", seed=0)
backbone = TensorDictModule(
    nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[32]), NormalParamExtractor()),
    in_keys=["observation"], out_keys=["loc", "scale"])
actor = ProbabilisticActor(backbone, in_keys=["loc", "scale"], spec=pendulum.action_spec,
                           distribution_class=TanhNormal, return_log_prob=True,
                           distribution_kwargs={"low": -2.0, "high": 2.0})
value = ValueOperator(MLP(in_features=3, out_features=1, num_cells=[32]),
                      in_keys=["observation"])
ppo_loss = ClipPPOLoss(actor, value)
rltutor.dataflow(ppo_loss)

# %% [markdown]
# Besides what DQN needed, PPO reads `action_log_prob`: the log-probability the actor gave
# its action *while collecting*. The loss compares it with the log-probability the
# current parameters give the same action; their ratio is what PPO clips.
#
# A `Collector` samples actions (exploration type RANDOM, lesson 09) and runs without
# gradients, so its batches are what PPO wants:

# %%
collector = Collector(pendulum, actor, frames_per_batch=200, total_frames=200,
                      auto_register_policy_transforms=False)
ppo_batch = next(iter(collector))
collector.shutdown()
print(rltutor.check_loss(ppo_loss, ppo_batch))

# %% [markdown]
# PPO also wants an **advantage**: how much better the action turned out than the value
# head expected. `GAE` (generalised advantage estimation) computes it from the rewards
# and the value head's `state_value` at each step and the next, and writes `advantage`
# and `value_target` (the return the value head should have predicted):

# %%
gae = GAE(gamma=0.99, lmbda=0.95, value_network=value)
with torch.no_grad():
    ppo_batch_gae = gae(ppo_batch.clone())
rltutor.diff(ppo_batch, ppo_batch_gae)

# %% [markdown]
# Now the loss has everything. It writes one term per part of PPO's objective (the
# clipped policy term, the critic's error, an entropy bonus) plus diagnostics:

# %%
ppo_terms = ppo_loss(ppo_batch_gae)
for key in ("loss_objective", "loss_critic", "loss_entropy", "clip_fraction"):
    print(f"{key:<15} {ppo_terms[key].item():+.4f}")

# %% [markdown]
# Two terms above a hundred before any training: is something broken? No. The critic is
# untrained, so its `state_value` sits near 0, while Pendulum's rewards (never positive)
# add up, over γ = 0.99's horizon, to value targets around −100. Every advantage
# (`value_target − state_value`) is then a large negative number. On this first call the
# actor has not changed since collecting, so the ratio is exactly 1 and `loss_objective`
# is minus the mean advantage. `loss_critic` measures the same gaps from the critic's
# side, with a smooth L1 that is |gap| − 0.5 for gaps above 1: hence 0.5 less.
#
# The size matters for training: the policy's gradient scales with the advantages.
# `normalize_advantage=True` rescales each batch's advantages to mean 0 and std 1 before
# the policy term; the critic still learns the raw `value_target`.

# %%
adv, v = ppo_batch_gae["advantage"], ppo_batch_gae["state_value"]
print(f"advantage   from {adv.min():+8.2f} to {adv.max():+8.2f}, mean {adv.mean():+.2f}")
print(f"state_value from {v.min():+8.2f} to {v.max():+8.2f} (untrained critic)")
normalized = ClipPPOLoss(actor, value, normalize_advantage=True)(ppo_batch_gae)
for key in ("loss_objective", "loss_critic"):
    print(f"{key:<15} raw {ppo_terms[key].item():+9.4f}   "
          f"normalize_advantage=True {normalized[key].item():+9.4f}")

# %% [markdown]
# Without an `advantage` in the batch, `ClipPPOLoss` computes one itself with its own
# estimator (a `GAE` too), on every call. Computing it once per collected batch, before
# the batch is cut into minibatches, is the usual way; lesson 13 trains PPO like that.
#
# ### Two ways to lose `action_log_prob`
#
# Collect with `env.rollout` and you get a deterministic action (no exploration context,
# lesson 09) **and** a batch that still carries gradients from the actor:

# %%
careless_batch = pendulum.rollout(50, actor)
with rltutor.expect_error(RuntimeError):
    ppo_loss(careless_batch)
rltutor.check_loss(ppo_loss, careless_batch)

# %% [markdown]
# And an actor built without `return_log_prob=True` writes no log-probability at all.
# The loss's message is clear this time; `rltutor.check_loss` adds who should have written it:

# %%
with torch.no_grad():
    no_log_prob_batch = rltutor.rollout(pendulum, actor, steps=50, exploration="random", seed=0)
del no_log_prob_batch["action_log_prob"]  # what an actor without return_log_prob leaves
with rltutor.expect_error(KeyError):
    ppo_loss(no_log_prob_batch)
rltutor.check_loss(ppo_loss, no_log_prob_batch)

# %% [markdown]
# ## 4. `DDPGLoss`: a critic that reads the action
#
# Deterministic actors (lesson 02) train with a critic Q(s, a), a `ValueOperator` that
# reads the action and writes `state_action_value` (lesson 09). `DDPGLoss` takes both:

# %%
torch.manual_seed(0)
det_actor = Actor(MLP(in_features=3, out_features=1, num_cells=[32]),
                  in_keys=["observation"])
critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[32]),
                       in_keys=["observation", "action"])
ddpg_loss = DDPGLoss(det_actor, critic, delay_actor=True, delay_value=True)
ddpg_updater = SoftUpdate(ddpg_loss, tau=0.005)  # moves the target copies; see section 5
rltutor.show(ddpg_loss)

# %% [markdown]
# TorchRL's own list, `ddpg_loss.in_keys`, has two keys more than the card: `next.action`,
# which the loss's *target actor* computes from `next.observation`, and
# `priority_weight`, which only a prioritised replay buffer writes (without it every
# sample weighs 1). Neither has to be in the batch:

# %%
listed = sorted(".".join(k) if isinstance(k, tuple) else k for k in ddpg_loss.in_keys)
print("ddpg_loss.in_keys:", listed)
with torch.no_grad():
    ddpg_batch = rltutor.rollout(pendulum, det_actor, steps=64, exploration="deterministic",
                                 seed=0)
print(rltutor.check_loss(ddpg_loss, ddpg_batch))
print({key: round(value.item(), 4) for key, value in ddpg_loss(ddpg_batch).items()
       if key.startswith("loss")})

# %% [markdown]
# ## 5. Target networks: copies that lag behind
#
# DQN and DDPG compute their target, reward + γ · value of the next state, with the
# network they are training. Chasing a target that moves with every step is unstable, so
# these losses can keep a **target copy** of the parameters that follows the trained ones
# slowly. `delay_value=True` makes the copy (`delay_actor=True` for DDPG's actor too);
# an updater moves it after each optimiser step:
#
# - `SoftUpdate(loss, tau=...)`: target ← (1 − τ) · target + τ · trained, every step;
# - `HardUpdate(loss, value_network_update_interval=k)`: target ← trained, now and then
#   (how often exactly is measured below).
#
# One soft step, checked by hand on the first weight of the Q-network:

# %%
def make_dqn(seed=0):
    torch.manual_seed(seed)
    net = MLP(in_features=4, out_features=2, num_cells=[32])
    loss = DQNLoss(QValueActor(net, in_keys=["observation"], spec=cartpole.action_spec),
                   action_space=cartpole.action_spec, delay_value=True)
    return loss, torch.optim.Adam(loss.parameters(), lr=1e-2)


def first_weights(loss):  # the trained copy and the target copy of the same tensor
    key = ("module", "0", "module", "0", "weight")
    return loss.value_network_params[key], loss.target_value_network_params[key]

# %%
loss, optim = make_dqn()
soft = SoftUpdate(loss, tau=0.1)
trained, target = first_weights(loss)
print("equal at the start:", torch.equal(trained, target))
loss(batch)["loss"].backward()
optim.step()
gap_before = (trained - target).detach().clone()
soft.step()
print("after one soft step, the target closed this share of the gap:",
      round(((target - (trained - gap_before)) / gap_before).nanmean().item(), 4))

# %% [markdown]
# Over many steps the difference shows. Below, two identical Q-networks train for 60
# optimiser steps on minibatches of one CartPole rollout, one with a soft target, one with
# a hard target; each panel follows one weight of the network and its target copy.

# %%
with torch.no_grad():
    replay_batch = rltutor.rollout(cartpole, q_actor, steps=256, exploration="deterministic",
                                   seed=0, break_when_done=False)

# %%
def train_with(updater_class, steps=60, **updater_kwargs):
    loss, optim = make_dqn()
    updater = updater_class(loss, **updater_kwargs)
    trained, target = [], []
    for step in range(steps):
        rows = torch.randint(0, 256, (32,), generator=torch.Generator().manual_seed(step))
        optim.zero_grad()
        loss(replay_batch[rows])["loss"].backward()
        optim.step()
        updater.step()
        trained.append(first_weights(loss)[0][0, 2].item())
        target.append(first_weights(loss)[1][0, 2].item())
    return trained, target

# %%
def plot_target_lag(tau=0.1, interval=15):
    runs = {f"SoftUpdate(tau={tau})": train_with(SoftUpdate, tau=tau),
            f"HardUpdate(value_network_update_interval={interval})":
                train_with(HardUpdate, value_network_update_interval=interval)}
    fig, axes = make_picture(2, 1, figsize=(9, 4.4), sharex=True, sharey=True)
    for ax, (name, (trained, target)) in zip(axes, runs.items()):
        ax.plot(trained, color=PALETTE[0], lw=1.5, label="trained weight")
        ax.plot(target, color=PALETTE[3], lw=1.5, ls="--", label="its target copy")
        ax.set(ylabel="weight"), ax.set_title(name, loc="left", fontsize=10)
    axes[0].legend(fontsize=8, loc="lower right", bbox_to_anchor=(1, 1), ncol=2, frameon=False)
    axes[1].set_xlabel("optimiser step")
    return fig

# %%
plot_target_lag()

# %% [markdown]
# The soft copy trails the trained weight like a smoothed, delayed version of it: each
# step it closes a share τ of the gap, so it lags about 1/τ steps. The hard copy is a
# staircase: flat, then equal to the trained weight. At which steps exactly?

# %%
_, hard_target = train_with(HardUpdate, value_network_update_interval=15)
copied_at = [step + 1 for step in range(1, 60) if hard_target[step] != hard_target[step - 1]]
print("value_network_update_interval=15: the target was copied at optimiser steps", copied_at)

# %% [markdown]
# Every **16** steps, not 15: at TorchRL 0.14.1 the updater's counter starts at 0 and
# copies when it *reaches* the interval, then restarts at 0, so it copies on every
# (k + 1)-th call of `step()`. Worth knowing when you compare with a paper's "update the
# target every C steps".
#
# Play with both: a small τ or a long interval means a steadier target that is further
# out of date. (Each change trains both networks again, about a second.)

# %%
rltutor.interact_figure(plot_target_lag,
                        tau=widgets.FloatSlider(value=0.1, min=0.02, max=0.5, step=0.02),
                        interval=widgets.IntSlider(value=15, min=2, max=30))

# %% [markdown]
# ## Exercise 1: the DQN loss by hand
#
# Section 1's `dqn_loss(batch)` returned one number. Write `dqn_loss_by_hand(q_actor,
# batch, gamma)` that returns the same number, and the same gradient, from its parts:
#
# - the prediction Q(s, a): the network's `action_value` at the action that was taken
#   (the one-hot `action` marks it);
# - the target r + γ · max over a' of Q(s', a'), read from `("next", ...)`, where the max
#   term counts as 0 after a step that terminated the episode. DQN treats the target as
#   a fixed number: no gradient flows through it;
# - the loss: the mean of (prediction − target)², over the batch.
#
# The check compares with `DQNLoss` at two values of γ, on `batch` and on a copy whose
# actions an exploring policy might have taken.

# %%
dqn_loss_by_hand = None  # TODO: def dqn_loss_by_hand(q_actor, batch, gamma): ...

# %%
ex.check_dqn_loss_by_hand(dqn_loss_by_hand, q_actor, batch)

# %% [markdown]
# ## 6. Replay buffers: where batches come from
#
# Off-policy losses (DQN, DDPG, SAC) learn from old data too. A `ReplayBuffer` keeps it:
# a **storage** (`LazyTensorStorage(capacity)` allocates its tensors on the first write,
# shaped like the data) and a **sampler** that picks which stored entries form a batch.
# `rltutor.watch_buffer` draws the storage slot by slot, coloured by the trajectory
# each step belongs to, with a dot on every slot the last sample took; it redraws as a
# collector adds data:

# %%
torch.manual_seed(0)
buffer = ReplayBuffer(storage=LazyTensorStorage(400), batch_size=32)
view = rltutor.watch_buffer(buffer)
view

# %%
collector = Collector(cartpole, q_actor, frames_per_batch=100, total_frames=300,
                      auto_register_policy_transforms=False)
for collected in collector:
    buffer.extend(collected)
    view.update(buffer.sample(return_info=True))
    print(view)
collector.shutdown()

# %% [markdown]
# The default sampler is uniform **with** replacement: a batch can take a slot twice (the
# bigger dots). `SamplerWithoutReplacement` deals the stored entries out like a shuffled
# deck instead: no slot returns until every other one has been dealt (a *pass*, or
# epoch). Over the four batches of 75 that cover the 300 entries once:

# %%
for sampler in (RandomSampler(), SamplerWithoutReplacement()):
    torch.manual_seed(0)
    deck = ReplayBuffer(storage=LazyTensorStorage(400), sampler=sampler, batch_size=75)
    deck.extend(buffer[:300])
    taken = torch.cat([deck.sample(return_info=True)[1]["index"] for _ in range(4)])
    print(f"{type(sampler).__name__:<26} 300 draws took {taken.unique().numel()} distinct slots")

# %% [markdown]
# ### Whole pieces of trajectories: `SliceSampler`
#
# Lesson 06's recurrent policy reads a *sequence* in recurrent mode: its memory only
# makes sense over consecutive steps of one episode. Random single steps are useless to
# it. `SliceSampler` samples slices instead: `slice_len` consecutive steps of one
# trajectory, which it recognises by the collector's `("collector", "traj_ids")`.
# A batch of 32 is four slices of 8:

# %%
torch.manual_seed(0)
slices = ReplayBuffer(storage=LazyTensorStorage(400), batch_size=32,
                      sampler=SliceSampler(slice_len=8, traj_key=("collector", "traj_ids")))
slices.extend(buffer[:300])
sample, info = slices.sample(return_info=True)
sequences = sample.reshape(4, 8)  # [slices, time], the shape recurrent mode reads
print("trajectory of each step:\n", sequences["collector", "traj_ids"])
print("each step's next observation is the following step's observation:",
      torch.equal(sequences["next", "observation"][:, :-1], sequences["observation"][:, 1:]))
rltutor.plot_buffer(slices, sample=(sample, info))

# %% [markdown]
# Each row is one trajectory, each dot run eight neighbouring slots. A recurrent module
# in recurrent mode (lesson 06) reads such a `[4, 8]` batch in one call, one sequence
# per row. It needs `is_init` to know where episodes start, which the `InitTracker`
# transform writes; this CartPole env has none, so we mark each slice's first step here
# to show the call. (A slice may begin in the middle of an episode: the module then
# starts from a zero state, not the one it had while acting.)

# %%
lstm = LSTMModule(input_size=4, hidden_size=16, in_key="observation", out_key="memory")
sequences["is_init"] = torch.zeros(4, 8, 1, dtype=torch.bool)
sequences["is_init"][:, 0] = True
with set_recurrent_mode(True), torch.no_grad():
    print("memory for every step of every slice:", lstm(sequences)["memory"].shape)

# %% [markdown]
# ## Exercise 2: whole episodes, side by side
#
# Slices cut episodes into pieces. A recurrent policy can also train on **whole**
# episodes: one trajectory per row of a `[trajectories, time]` batch, each row padded at
# the end to the longest one, with a mask that says which entries are real steps. Build
# `episodes` from `collected_300` (the 300 CartPole steps above, one trajectory after
# another): one row per trajectory, the mask under `("collector", "mask")`.
# (`torchrl.collectors.utils` has a function for it; one built by hand passes too.)

# %%
collected_300 = buffer[:300]
print("trajectory ids in the data:", collected_300["collector", "traj_ids"].unique().tolist())
episodes = None  # TODO: a [trajectories, time] TensorDict

# %%
ex.check_episodes(episodes, collected_300)

# %% [markdown]
# ## Recap
#
# - A loss module reads a **batch of collected data** (a rollout, a collector's batch, a
#   replay sample), runs its networks again on it with gradients, and writes loss terms.
#   `rltutor.show(loss)` and `rltutor.dataflow(loss)` show which keys it reads.
# - `DQNLoss` needs `observation`, `action` and the `next` step's `reward`, `done`,
#   `terminated` and `observation`; it recomputes `action_value`. `ClipPPOLoss` also
#   needs `action_log_prob` (a `ProbabilisticActor` with `return_log_prob=True`, collected
#   without gradients) and uses `advantage`/`value_target`, which `GAE` writes.
#   `DDPGLoss` trains a deterministic actor with a Q(s, a) critic. An untrained critic
#   makes PPO's first terms large (the advantages are large); `normalize_advantage=True`
#   rescales them per batch.
# - A missing key often fails with a message that names no key; `rltutor.check_loss(loss, batch)`
#   says which key is missing and which module should have written it.
# - `delay_value=True` keeps a target copy; `SoftUpdate` moves it a share τ per step,
#   `HardUpdate(value_network_update_interval=k)` copies it every k + 1 steps.
# - `ReplayBuffer(storage=LazyTensorStorage(n))` samples uniformly with replacement;
#   `SamplerWithoutReplacement` deals each entry once per pass; `SliceSampler` returns
#   consecutive steps of one trajectory, the sequences a recurrent policy trains on; whole
#   trajectories side by side need padding and a mask.
#
# **Next:** lesson 11 puts a collector, a buffer, a loss and an optimiser in one loop,
# and a policy finally learns.
