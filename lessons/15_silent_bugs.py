# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
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
# # Lesson 15 — Why isn't it learning? Six silent bugs, each named before the run
#
# The costliest mistakes in RL raise no error. The loop runs, the loss is a number, the
# progress bar fills, and the policy learns nothing. Here are six such bugs, each one
# line away from lesson 11's DQN on CartPole. For each you see the run with the bug
# beside the run without it (same seed, same budget), why nothing complained, and the
# check that names it **before** a single frame is trained: `rltutor.check_training`.
#
# **What you will learn**
# - six realistic silent bugs of a DQN loop, and what each does to the learning curve
# - why each one raises no error
# - `rltutor.check_training(...)`: give it the parts of your loop, and it makes two
#   dry-run updates on copies of them and reports what did not move that should have
# - a habit: check the parts, then train

# %%
import copy
import logging
from functools import partial

import torch
import torch.nn.functional as F
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.collectors import Collector
from torchrl.data import Categorical, LazyTensorStorage, ReplayBuffer
from torchrl.modules import MLP, EGreedyModule, QValueModule
from torchrl.objectives import DQNLoss, SoftUpdate

import rltutor
from rltutor.exercises import lesson15 as ex

# %% [markdown]
# ## 1. One short DQN run, written out
#
# Lesson 11's run took 10,000 frames. To compare seven runs within a minute we keep
# 2,000: 500 frames of near-random play, then 4 updates per batch of 10 frames. That
# is enough for a correct loop to balance the pole far longer than a random policy's
# 20 steps, and it is the budget of every run below (seeded, on one CPU thread).

# %%
torch.set_num_threads(1)
logging.getLogger("torchrl").setLevel(logging.WARNING)  # its INFO lines carry a clock time
FRAMES, FRAMES_PER_BATCH, WARMUP_FRAMES = 2_000, 10, 500
UPDATES_PER_BATCH, BATCH_SIZE, LR, GAMMA = 4, 128, 2.5e-3, 0.99
EVAL_EVERY = 500  # greedy return, 3 seeded episodes, after 500, 1000, 1500 and 2000 frames
EVAL_FRAMES = list(range(EVAL_EVERY, FRAMES + 1, EVAL_EVERY))
THRESHOLD = rltutor.reward_threshold("CartPole-v1")  # 475, from gymnasium's registry

# %% [markdown]
# The parts, built as in lesson 11: the Q-value `policy`, ε-greedy `exploration` on top
# for collecting, `DQNLoss` as the holder of the **target copy**, `SoftUpdate`, Adam, a
# `Collector` and a `ReplayBuffer`. Two arguments let the bugs below change one line.

# %%
def q_network() -> nn.Module:
    return MLP(in_features=4, out_features=2, num_cells=[64, 64])


# %%
def build(seed: int, *, network=q_network, action_spec=None) -> dict:
    torch.manual_seed(seed)
    env = rltutor.make_env("CartPole-v1", seed=seed)
    spec = action_spec or env.action_spec
    value_net = TensorDictModule(network(), in_keys=["observation"], out_keys=["action_value"])
    policy = TensorDictSequential(value_net, QValueModule(spec=spec))
    exploration = EGreedyModule(spec=spec, eps_init=1.0, eps_end=0.05, annealing_num_steps=FRAMES)
    loss = DQNLoss(policy, action_space=spec, delay_value=True)
    collector = Collector(env, TensorDictSequential(policy, exploration), total_frames=FRAMES,
                          frames_per_batch=FRAMES_PER_BATCH, auto_register_policy_transforms=False)
    buffer = ReplayBuffer(storage=LazyTensorStorage(FRAMES), batch_size=BATCH_SIZE,
                          generator=torch.Generator().manual_seed(seed))
    return dict(policy=policy, env=env, exploration=exploration, loss=loss, collector=collector,
                optimizer=torch.optim.Adam(loss.parameters(), lr=LR),
                target_updater=SoftUpdate(loss, eps=0.99), buffer=buffer)

# %% [markdown]
# One gradient step, with the target written out (lesson 11's exercise 2): the reward,
# plus γ times the target copy's best value of the next state, except where the episode
# **terminated**. The loss is the gap between that target and the value of the action
# taken (read from a one-hot action or an index, as `DQNLoss` does for either spec).

# %%
def td_target(batch, loss):
    with torch.no_grad(), loss.target_value_network_params.to_module(loss.value_network):
        next_value = loss.value_network(batch["next"].clone())["action_value"].max(-1).values
    ended = batch["next", "terminated"].squeeze(-1)
    return batch["next", "reward"].squeeze(-1) + GAMMA * next_value * ~ended


# %%
def value_taken(batch, loss):  # one-hot actions pick by product, indices by gather
    action_value = loss.value_network(batch.clone())["action_value"]
    if batch["action"].shape == action_value.shape:
        return (action_value * batch["action"]).sum(-1)
    return action_value.gather(-1, batch["action"].unsqueeze(-1)).squeeze(-1)


def gradient_step(batch, loss, optimizer, target_updater, *, target=td_target):
    value_loss = F.smooth_l1_loss(value_taken(batch, loss), target(batch, loss))
    optimizer.zero_grad()
    value_loss.backward()
    optimizer.step()
    target_updater.step()

# %% [markdown]
# And the loop, top to bottom: fill the buffer, anneal ε by the frames just taken, a few
# updates once the warm-up is over, a greedy evaluation every 500 frames.

# %%
def train(policy, env, exploration, loss, optimizer, target_updater, collector, buffer, *,
          update=gradient_step) -> list[float]:
    eval_env, curve, frames = rltutor.make_env("CartPole-v1", seed=0), [], 0
    for batch in collector:
        buffer.extend(batch)
        frames += batch.numel()
        exploration.step(batch.numel())
        if frames >= WARMUP_FRAMES:
            for _ in range(UPDATES_PER_BATCH):
                update(buffer.sample(), loss, optimizer, target_updater)
        if frames % EVAL_EVERY == 0:
            curve.append(rltutor.evaluate(eval_env, policy, episodes=3, seed=1000))
    collector.shutdown()
    return curve

# %% [markdown]
# ## 2. The habit: check the parts, then train
#
# `rltutor.check_training` takes the parts your loop has (all by keyword) and, if you
# give it, your own `update` step. It copies them, makes two updates on the copies, and
# looks at what moved; torch's random state is forked, so the run that follows draws
# the same numbers as without the check. On the correct loop it finds nothing:

# %%
parts = build(seed=0)
print(rltutor.check_training(**parts, update=gradient_step, td_target=td_target,
                             total_frames=FRAMES))
fixed = train(**parts)
print("greedy return after", EVAL_FRAMES, "frames:", fixed)

# %%
def compare(buggy: list[float], title: str):
    """The buggy run beside the correct one: same seed, same 2,000 frames."""
    return rltutor.plot_learning_curves(
        {"correct loop": [fixed], "with the bug": [buggy]}, frames=EVAL_FRAMES,
        threshold=THRESHOLD, threshold_label="CartPole's reward threshold", title=title)

# %% [markdown]
# ## 3. Bug 1: the target copy never moves
#
# The update below is the correct one with its last line forgotten. `DQNLoss` made the
# target copy at the start, and nothing ever updates it.
#
# **Why it is silent:** the loss still goes down, because the network can fit targets
# made by a frozen random network; those targets just say nothing about balancing.

# %%
def gradient_step_no_target(batch, loss, optimizer, target_updater):
    value_loss = F.smooth_l1_loss(value_taken(batch, loss), td_target(batch, loss))
    optimizer.zero_grad()
    value_loss.backward()
    optimizer.step()  # ... and target_updater.step() is missing


parts = build(seed=0)
print(rltutor.check_training(**parts, update=gradient_step_no_target))

# %%
no_target = train(**parts, update=gradient_step_no_target)
compare(no_target, "bug 1: target_updater.step() forgotten")

# %% [markdown]
# **Fix:** `target_updater.step()` after every `optimizer.step()`, as in `gradient_step`.
#
# ## 4. Bug 2: `done` read from the root
#
# In a batch, the root holds what was known **before** the step: `batch["done"]` says
# whether the *previous* step ended the episode, which is nearly always False.
# `("next", "terminated")` says whether *this* transition ended it.
#
# **Why it is silent:** both keys exist with the same shape and dtype; the target just
# never stops at a fall, so every state looks as good as every other.

# %%
def td_target_root(batch, loss):
    with torch.no_grad(), loss.target_value_network_params.to_module(loss.value_network):
        next_value = loss.value_network(batch["next"].clone())["action_value"].max(-1).values
    ended = batch["done"].squeeze(-1)  # the root: the step before's flag
    return batch["next", "reward"].squeeze(-1) + GAMMA * next_value * ~ended


parts = build(seed=0)
print(rltutor.check_training(**parts, td_target=td_target_root))
root_done = train(**parts, update=partial(gradient_step, target=td_target_root))
compare(root_done, "bug 2: batch['done'] instead of batch['next', 'terminated']")

# %% [markdown]
# `check_training` calls your target on four copies of one transition: one that goes
# on, one that terminated, one cut by the time limit, and one whose root flags say
# "ended". A right target changes only for the terminated one. (Reading
# `("next", "done")` instead is the third classic: it stops at the time limit too,
# where the pole is still up; the check names that one `truncated-as-terminated`.)
#
# **Fix:** `batch["next", "terminated"]`.
#
# ## 5. Bug 3: the integer action that CartPole reads as "left"
#
# CartPole's action spec in TorchRL is one-hot. Write the two actions as an index
# instead, `Categorical(2)`, everywhere (policy, ε-greedy, loss), and every part agrees
# with every other. Only the environment disagrees: it reads a one-hot action with
# argmax, and a one-element index tensor has its maximum at position 0.

# %%
parts = build(seed=0, action_spec=Categorical(2))  # the spec written by hand
print(rltutor.check_training(**parts))

# %% [markdown]
# **Why it is silent:** the loss, the buffer and the policy all agree on the index
# encoding, so no shape ever clashes; the environment alone maps every index to 0.

# %%
integer_action = train(**parts)
compare(integer_action, "bug 3: an index where the spec is one-hot")

# %% [markdown]
# See it happen: with ε = 1 again, the policy asks for right (1) as often as for left
# (0), and the cart's velocity only goes down. Every step is "left".

# %%
explorer = TensorDictSequential(parts["policy"], EGreedyModule(spec=Categorical(2), eps_init=1.0))
steps_td = rltutor.make_env("CartPole-v1", seed=0).rollout(8, explorer)
print("actions the policy wrote:", steps_td["action"].flatten().tolist())
velocity = steps_td["next", "observation"][:, 1]
print("cart velocity after each:", [round(v, 2) for v in velocity.tolist()])

# %% [markdown]
# **Fix:** take the spec from the environment, `QValueModule(spec=env.action_spec)`; or
# build the env with `GymEnv(..., categorical_action_encoding=True)` to act with indices.
#
# ## 6. Bug 4: a stray `.detach()` inside the network
#
# A network that keeps its hidden features for a plot, as a detached copy, and then
# (the bug) passes the copy on to its head:

# %%
class LoggedQNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = MLP(in_features=4, out_features=64, num_cells=[64], activate_last_layer=True)
        self.head = nn.Linear(64, 2)
        self.features = None

    def forward(self, observation):
        self.features = self.body(observation).detach()  # kept for a plot
        return self.head(self.features)  # the bug: the head reads the detached copy


parts = build(seed=0, network=LoggedQNet)
print(rltutor.check_training(**parts))

# %% [markdown]
# **Why it is silent:** the head still learns, so the loss goes down; the body keeps its
# first random weights, and a linear head on random features cannot balance well.

# %%
detached = train(**parts)
compare(detached, "bug 4: the body cut off from the loss by .detach()")

# %% [markdown]
# **Fix:** `return self.head(self.body(observation))`, and keep `.detach()` for the copy
# you log.
#
# ## 7. Bug 5: the loss trains a copy
#
# Lesson 11 kept `untrained = copy.deepcopy(policy)` for a "before" picture. Build the
# loss from that name by mistake, and the optimizer trains the copy while the collector
# and the evaluation use `policy`:

# %%
parts = build(seed=0)
untrained = copy.deepcopy(parts["policy"])  # for a "before" picture
parts["loss"] = DQNLoss(untrained, action_space=parts["env"].action_spec, delay_value=True)
parts["optimizer"] = torch.optim.Adam(parts["loss"].parameters(), lr=LR)
parts["target_updater"] = SoftUpdate(parts["loss"], eps=0.99)
print(rltutor.check_training(**parts))

# %% [markdown]
# **Why it is silent:** the copy does learn, so the loss behaves normally; but the
# policy that acts is never touched, and its greedy return stays where it started.

# %%
trains_copy = train(**parts)
compare(trains_copy, "bug 5: DQNLoss built from a copy of the policy")

# %% [markdown]
# **Fix:** `DQNLoss(policy, ...)`: the very module you collect and evaluate with.
#
# ## 8. Bug 6: `optimizer.zero_grad()` forgotten
#
# `backward()` **adds** to each parameter's `.grad`. Without `zero_grad()`, the step at
# update *n* follows the sum of all *n* gradients so far, most of them computed on
# targets and weights long gone.

# %%
def gradient_step_no_zero(batch, loss, optimizer, target_updater):
    value_loss = F.smooth_l1_loss(value_taken(batch, loss), td_target(batch, loss))
    value_loss.backward()  # optimizer.zero_grad() is missing before this line
    optimizer.step()
    target_updater.step()


parts = build(seed=0)
print(rltutor.check_training(**parts, update=gradient_step_no_zero))

# %% [markdown]
# **Why it is silent:** every tensor has the right shape and the loss stays finite; Adam
# even scales the swollen gradients back to steps of a normal size, in a stale direction.

# %%
no_zero_grad = train(**parts, update=gradient_step_no_zero)
compare(no_zero_grad, "bug 6: optimizer.zero_grad() forgotten")

# %% [markdown]
# **Fix:** `optimizer.zero_grad()` before `backward()` in every update.
#
# ## 9. All six at once
#
# The best greedy return each run reached within the same 2,000 frames:

# %%
runs = {"correct loop": fixed, "1 target never moves": no_target,
        "2 done from the root": root_done, "3 integer action": integer_action,
        "4 stray detach": detached, "5 loss trains a copy": trains_copy,
        "6 no zero_grad": no_zero_grad}
for name, curve in runs.items():
    print(f"{name:<22} best {max(curve):6.1f}   last {curve[-1]:6.1f}")

# %% [markdown]
# One seed is one anecdote. `benchmarks/bench_silent_bugs.py` runs the correct loop and
# each bug again on seeds 0 to 4, with this budget (its table is in
# `benchmarks/silent_bugs_seeds.json`; `make bench` runs it again). On seeds 0, 1 and 2,
# every bug's best greedy return stays below a third of the correct loop's best. On seeds
# 3 and 4 the curves cannot tell them apart: on seed 4 the *untrained* network already
# balances for 500 steps (bug 5, whose loss trains a copy, keeps those first weights and
# scores 500 at every check), and on seed 3 three bugs reach about half of the correct
# loop's best. On a short run the curve is weak evidence either way, so the checks above
# read the parts instead.
#
# ## Exercise 1: a loop you have not seen
#
# `ex.mystery_parts(seed)` builds the parts of another DQN run on CartPole, with its
# own `update`. It runs, and learns little. Run `check_training` on its parts, read
# what it says, and write `fixed_parts(seed)`: a function that returns the same kind
# of dict (the keys `build` returns, plus `"update"`) with the bug fixed. The checker
# trains your parts briefly, on two seeds, and judges the curves.

# %%
mystery = ex.mystery_parts(seed=0)
print(rltutor.check_training(**mystery, total_frames=FRAMES))

# %%
def fixed_parts(seed):
    return None  # TODO: a dict like build(seed), plus "update", with the bug fixed


# %%
ex.check_fixed_parts(fixed_parts)

# %% [markdown]
# ## Recap
#
# - A silent bug runs, and the loss looks like a loss. Only the learning curve, beside
#   a correct run on the same seed and budget, shows it.
# - Six of them, one line each: the target copy never stepped; `done` read from the
#   root; an index action for a one-hot spec; a `.detach()` inside the network; a loss
#   built from a copy of the policy; `zero_grad()` forgotten.
# - `rltutor.check_training(policy=..., env=..., loss=..., optimizer=...,
#   target_updater=..., exploration=..., collector=..., buffer=..., update=...,
#   td_target=..., total_frames=...)` names each before training: it checks the
#   optimizer holds every trainable parameter and each gets a gradient, the target copy
#   moves, ε anneals within the run, the collector explores, the evaluation is
#   deterministic, the target stops only at termination, the action fits the spec, and
#   a recurrent loss on replayed slices runs in recurrent mode.
# - Check the parts, then train.
