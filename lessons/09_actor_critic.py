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
# # Lesson 09 — Actor-critic: a value head beside the policy
#
# Every module so far answered one question: *which action?* Most training algorithms
# also ask a second one: *how good is this situation?* A **value network** (the *critic*)
# answers it with a number, and an actor-critic puts the two side by side, often on one
# shared body. This lesson builds the TorchRL modules for that and looks inside them.
#
# **What you will learn**
# - `ValueOperator`: a module that writes `state_value`, or `state_action_value` when it
#   also reads the action
# - `ActorValueOperator`: one shared trunk, a policy head and a value head, and how
#   `get_policy_operator()` / `get_value_operator()` take it apart *without copying*
# - `ActorCriticOperator` (the critic reads the actor's action) and `ActorCriticWrapper`
#   (two separate networks)
# - `default_interaction_type`: what a `ProbabilisticActor` does when nobody sets an
#   exploration type
# - what a value estimate *means*: the discounted reward still to come

# %%
from functools import cache

import ipywidgets as widgets
import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import (MLP, ActorCriticOperator, ActorCriticWrapper, ActorValueOperator,
                             ProbabilisticActor, TanhNormal, ValueOperator)

import rltutor
from rltutor.exercises import lesson09 as ex
from rltutor.plots import PALETTE, ROLES, make_picture

# %%
torch.set_num_threads(1)
torch.manual_seed(0)
env = rltutor.make_env("Pendulum-v1", seed=0)  # GymEnv + set_seed in one call (lesson 01)
td = env.reset()

# %% [markdown]
# ## 1. `ValueOperator`: one number per state
#
# A value network reads the observation and writes a single number, its guess of how
# much reward is still to come from here. `ValueOperator` is a `TensorDictModule` whose
# `out_keys` default to `["state_value"]`; you only give it the network and the `in_keys`.

# %%
value = ValueOperator(MLP(in_features=3, out_features=1, num_cells=[32]),
                      in_keys=["observation"])
print("in_keys:", value.in_keys, " out_keys:", value.out_keys)
rltutor.diff(td, value(td.clone()))

# %% [markdown]
# Give it the action as well and it scores a *pair*: how good is taking this action
# here? TorchRL calls that `state_action_value`, and `ValueOperator` picks that name by
# itself as soon as `"action"` is among its `in_keys`. The network's input is the
# observation and the action side by side: 3 + 1 = 4 numbers.

# %%
q_value = ValueOperator(MLP(in_features=4, out_features=1, num_cells=[32]),
                        in_keys=["observation", "action"])
print("in_keys:", q_value.in_keys, " out_keys:", q_value.out_keys)
with_action = td.clone().set("action", torch.tensor([0.5]))
rltutor.diff(with_action, q_value(with_action.clone()))

# %% [markdown]
# rltutor's card of a value network says what it estimates, and where its inputs come
# from: not all from the environment, since the action is the policy's.

# %%
rltutor.show(q_value)

# %% [markdown]
# A reset TensorDict has no action yet, so the Q-network cannot run on it alone:

# %%
with rltutor.expect_error(KeyError):
    q_value(td.clone())
print("fix: run the actor first, so that 'action' is in the TensorDict; section 4 does it.")

# %% [markdown]
# ## 2. One trunk, two heads: `ActorValueOperator`
#
# The policy and the value network both need to *understand* the observation. Instead of
# learning that twice, an actor-critic can share a **trunk** that writes a feature vector
# (here under the key `"hidden"`), with two small heads reading it: a policy head
# (lesson 03's `ProbabilisticActor`) and a value head.

# %%
torch.manual_seed(0)
trunk = TensorDictModule(MLP(in_features=3, out_features=32, num_cells=[32]),
                         in_keys=["observation"], out_keys=["hidden"])
policy_head = ProbabilisticActor(
    TensorDictModule(nn.Sequential(nn.Linear(32, 2), NormalParamExtractor()),
                     in_keys=["hidden"], out_keys=["loc", "scale"]),
    in_keys=["loc", "scale"], spec=env.action_spec, distribution_class=TanhNormal,
    distribution_kwargs={"low": -2.0, "high": 2.0}, return_log_prob=True)
value_head = ValueOperator(nn.Linear(32, 1), in_keys=["hidden"])
agent = ActorValueOperator(trunk, policy_head, value_head)

# %% [markdown]
# The dataflow shows who reads what: only the trunk reads the environment's
# `observation`; both heads read `hidden`, which the trunk wrote one step earlier.

# %%
rltutor.dataflow(agent)

# %% [markdown]
# Called as a whole, the operator runs all three parts and writes everything at once:
# the hidden features, the action with its log-probability, and the state value.

# %%
with torch.no_grad():
    agent_td = agent(td.clone())
rltutor.diff(td, agent_td)

# %% [markdown]
# ## 3. Taking it apart, without copying
#
# A collector needs only the policy; a value loss needs only the critic.
# `get_policy_operator()` returns trunk + policy head, `get_value_operator()` returns
# trunk + value head. Both reuse the *same* trunk object:

# %%
policy_op = agent.get_policy_operator()
value_op = agent.get_value_operator()
print(type(policy_op).__name__, policy_op.in_keys, "->", policy_op.out_keys)
print(type(value_op).__name__, value_op.in_keys, "->", value_op.out_keys)
print("same trunk object:", policy_op.module[0] is value_op.module[0] is trunk)

# %% [markdown]
# The operator's card says the same in words: which key the trunk shares, which head
# reads it, and what each `get_*_operator()` contains.

# %%
rltutor.show(agent)

# %% [markdown]
# Same object means same parameters, not copies. Two checks: the trunk's weight in both
# operators points at the same memory, and the parameter counts add up to the whole
# (the trunk is counted once).

# %%
def n_params(module):
    return sum(p.numel() for p in module.parameters())


w_policy = policy_op.module[0].module[0].weight
w_value = value_op.module[0].module[0].weight
print("same storage:", w_policy.data_ptr() == w_value.data_ptr())
print(f"trunk {n_params(trunk)} + policy head {n_params(policy_head)} + value head "
      f"{n_params(value_head)} = {n_params(agent)} parameters in the whole operator")

# %% [markdown]
# And the test that matters for training: change the trunk **through the policy
# operator** (as a policy-gradient step would) and the value operator's answer moves too.

# %%
saved = w_policy.detach().clone()
with torch.no_grad():
    before = value_op(td.clone())["state_value"].item()
    w_policy.add_(0.1)  # a nudge made through the policy operator only
    after = value_op(td.clone())["state_value"].item()
    w_policy.copy_(saved)  # and back, exactly
print(f"value before {before:+.4f}, after the policy's trunk moved {after:+.4f}")
assert before != after

# %% [markdown]
# ## 4. A critic that reads the action: `ActorCriticOperator`
#
# `ActorCriticOperator` has the same three parts, but its critic scores the pair (state,
# action): the value head reads `hidden` **and** the `action` the policy head just wrote,
# and writes `state_action_value`. This is the layout of DDPG- and SAC-style critics.

# %%
torch.manual_seed(0)
q_head = ValueOperator(nn.Linear(32 + 1, 1), in_keys=["hidden", "action"])
actor_critic = ActorCriticOperator(trunk, policy_head, q_head)
rltutor.dataflow(actor_critic)

# %% [markdown]
# Its `get_critic_operator()` is the *whole* chain (the critic cannot run without an
# action), while `get_policy_operator()` stops after the action.

# %%
critic_op = actor_critic.get_critic_operator()
print("critic operator writes:", critic_op.out_keys)
print("policy operator writes:", actor_critic.get_policy_operator().out_keys)

# %% [markdown]
# ### `ActorCriticWrapper`: no shared trunk
#
# When the two networks should learn separately, `ActorCriticWrapper(actor, critic)`
# bundles two complete modules. Both read `observation` from the environment; nothing is
# shared, and `get_policy_operator()` / `get_value_operator()` simply hand back each one.

# %%
torch.manual_seed(0)
separate_actor = ProbabilisticActor(
    TensorDictModule(nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[32]),
                                   NormalParamExtractor()),
                     in_keys=["observation"], out_keys=["loc", "scale"]),
    in_keys=["loc", "scale"], spec=env.action_spec, distribution_class=TanhNormal,
    distribution_kwargs={"low": -2.0, "high": 2.0}, return_log_prob=True)
wrapper = ActorCriticWrapper(separate_actor, value)
rltutor.dataflow(wrapper)

# %% [markdown]
# ## Exercise 1: an actor-critic for CartPole
#
# Build `cartpole_agent`, an `ActorValueOperator` for CartPole (4 observations, 2 one-hot
# actions): a trunk reading `observation` and writing a feature key of your choice, a
# categorical policy head (lesson 03: `logits` and `OneHotCategorical`) and a value head,
# **both heads reading the trunk's features**. The check runs it, takes it apart and
# verifies that the trunk is really shared.

# %%
cartpole = rltutor.make_env("CartPole-v1", seed=0)
cartpole_agent = None  # TODO: ActorValueOperator(trunk, policy_head, value_head)

# %%
ex.check_shared_agent(cartpole_agent, cartpole)

# %% [markdown]
# ## 5. `default_interaction_type`: when nobody says how to act
#
# Lesson 03 set the exploration type with a context manager. What if none is set? Then a
# `ProbabilisticActor` falls back to its own `default_interaction_type`, which is
# `DETERMINISTIC` unless you pass something else. Two actors on the same backbone, each
# called three times on the same observation, with and without a context:

# %%
samples_by_default = ProbabilisticActor(
    separate_actor.module[0], in_keys=["loc", "scale"], spec=env.action_spec,
    distribution_class=TanhNormal, distribution_kwargs={"low": -2.0, "high": 2.0},
    default_interaction_type=ExplorationType.RANDOM)
print("defaults:", separate_actor.default_interaction_type, "|",
      samples_by_default.default_interaction_type)

# %%
def three_actions(actor):
    with torch.no_grad():
        return [round(actor(td.clone())["action"].item(), 3) for _ in range(3)]


torch.manual_seed(0)
print(f"{'context':<16}{'default DETERMINISTIC':<28}default RANDOM")
print(f"{'none':<16}{three_actions(separate_actor)!s:<28}{three_actions(samples_by_default)}")
for mode in (ExplorationType.RANDOM, ExplorationType.DETERMINISTIC):
    with set_exploration_type(mode):
        print(f"{mode.name:<16}{three_actions(separate_actor)!s:<28}"
              f"{three_actions(samples_by_default)}")

# %% [markdown]
# Read the table row by row: a context, when there is one, wins over the default; only in
# the first row does the default decide. It matters because **`env.rollout` sets no
# context** (so a default actor acts deterministically), while a TorchRL `Collector`
# sets `RANDOM` unless told otherwise:

# %%
with torch.no_grad():
    plain_td = env.rollout(50, separate_actor)
collector = Collector(env, separate_actor, frames_per_batch=50, total_frames=50,
                      auto_register_policy_transforms=False)
collected = next(iter(collector))
collector.shutdown()
same = torch.allclose(collected["action"], separate_actor(collected.clone())["action"])
print("env.rollout actions = the deterministic action:", torch.allclose(
    plain_td["action"], separate_actor(plain_td.clone())["action"]))
print("Collector actions   = the deterministic action:", same)

# %% [markdown]
# ## 6. What a value estimate means
#
# An untrained value head writes arbitrary numbers. A *trained* one predicts the
# **discounted return-to-go**: the rewards still to come, each weighted by `gamma` to the
# power of how far away it is, G_t = r_t + γ r_{t+1} + γ² r_{t+2} + … Computed backwards
# along a rollout, it is one line per step:

# %%
def return_to_go(rewards, gamma):
    returns, running = torch.zeros_like(rewards), torch.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


print(return_to_go(torch.tensor([1.0, 1.0, 1.0]), gamma=0.5).tolist())

# %% [markdown]
# To see a value head at work, fix a policy (the deterministic `separate_actor`), collect
# eight 200-step rollouts, and train a fresh value network by plain regression onto their
# return-to-go. (This is the bare idea. Lesson 13 trains this lesson's shared-trunk agent
# with `ClipPPOLoss`, whose critic learns from targets that `GAE` computes; lesson 11
# trains a Q-network, not a value head.)
# The last 50 steps of each rollout are left out of the training data: their sums stop at
# the time limit, so they lack part of their future.

# %%
with torch.no_grad():
    train_tds = [rltutor.rollout(env, separate_actor, steps=200, exploration="deterministic",
                                 seed=seed) for seed in range(8)]

# %%
@cache  # one fit per gamma: the widget below reuses it for every seed
def fit_value(gamma, steps=300):
    batch = torch.cat([td[:150] for td in train_tds])
    target = torch.cat([return_to_go(td["next", "reward"], gamma)[:150] for td in train_tds])
    torch.manual_seed(0)
    critic = ValueOperator(MLP(in_features=3, out_features=1, num_cells=[64, 64]),
                           in_keys=["observation"])
    optim = torch.optim.Adam(critic.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = (critic(batch.clone())["state_value"] - target).pow(2).mean()
        optim.zero_grad(), loss.backward(), optim.step()
    return critic

# %%
def value_along(gamma, seed):
    """Rewards, return-to-go and a freshly fitted value head's estimate on an unseen rollout."""
    with torch.no_grad():
        test_td = rltutor.rollout(env, separate_actor, steps=200, exploration="deterministic",
                                  seed=seed)
    critic = fit_value(gamma)
    with torch.no_grad():
        estimate = critic(test_td.clone())["state_value"].flatten()
    reward = test_td["next", "reward"].flatten()
    return reward, return_to_go(reward, gamma), estimate

# %%
def plot_value_along(gamma=0.9, seed=100):
    reward, target, estimate = value_along(gamma, seed)
    fig, (top, bottom) = make_picture(2, 1, figsize=(9, 4.6), sharex=True,
                                      height_ratios=(1, 2))
    top.bar(range(200), reward, color=ROLES["band"], width=1.0)
    top.set(ylabel="reward", title=f"an unseen rollout (seed {seed}), gamma = {gamma}")
    bottom.plot(target, "k-", lw=1.5, label="return-to-go (what actually followed)")
    bottom.plot(estimate, "--", color=PALETTE[1], lw=1.8,
                label="value head's estimate (state_value)")
    bottom.axvspan(150, 200, color=ROLES["empty"], label="not in the training data")
    bottom.set(xlabel="step", ylabel="value")
    bottom.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3)
    return fig

# %%
plot_value_along()

# %% [markdown]
# The grey bars are the rewards (Pendulum's are never positive: a penalty for being away
# from upright and for moving fast). The black line sums what followed each step, the
# orange dashed one is what the value head guessed from the observation alone, on a rollout it
# never trained on. Over the first 150 steps the orange line follows the black one's rises
# and falls. At the very end the black line climbs above the orange one: the rollout stops
# at step 200, so fewer penalties follow. The value head sees no clock, so it cannot know
# that; TorchRL's losses handle this with the `truncated` flag.
#
# Play: a larger **gamma** looks further ahead: the sums grow, and the target gets harder
# to fit. Over the first 150 steps, on every seed the slider offers, the estimate misses
# by under 10 % of the values' size on average; it fits best at 0.5, while 0.8 against 0.9
# depends on the rollout. **seed** picks another unseen rollout. The first time you pick
# a gamma, a fresh value head is trained for it (about a second).

# %%
rltutor.interact_figure(plot_value_along, gamma=widgets.Dropdown(options=[0.5, 0.8, 0.9],
                                                                 value=0.9),
                        seed=widgets.IntSlider(value=100, min=100, max=109))

# %% [markdown]
# ## Exercise 2: return-to-go across episode ends
#
# Pendulum never ends early, but CartPole does: when the pole falls, the episode is over
# and nothing after that belongs to it. `cartpole_td` below holds 60 steps of several
# CartPole episodes back to back. Compute `cartpole_returns`, the discounted
# return-to-go with `gamma = 0.9` for every step, **restarting the sum at each episode
# end** (`cartpole_td["next", "done"]`). Same shape as the rewards: `[60, 1]`.

# %%
cartpole_td = rltutor.rollout(cartpole, rltutor.make_qvalue_policy(cartpole), steps=60,
                              exploration="deterministic", seed=0, break_when_done=False)
print("episode ends at steps:", cartpole_td["next", "done"].flatten().nonzero().flatten().tolist())
cartpole_returns = None  # TODO: a [60, 1] tensor

# %%
ex.check_return_to_go(cartpole_returns, cartpole_td, gamma=0.9)

# %% [markdown]
# ## Recap
#
# - `ValueOperator(net, in_keys=["observation"])` writes `state_value`; with `"action"`
#   among its `in_keys` it writes `state_action_value` instead.
# - `ActorValueOperator(trunk, policy_head, value_head)` runs a shared trunk that writes a
#   hidden key, then both heads read it. `get_policy_operator()` and
#   `get_value_operator()` return views that share the trunk's parameters: a change
#   through one shows in the other.
# - `ActorCriticOperator` puts a critic *after* the policy, reading its action and
#   writing `state_action_value`; `ActorCriticWrapper` bundles two separate networks.
# - With no exploration context, a `ProbabilisticActor` uses its
#   `default_interaction_type` (DETERMINISTIC unless you pass another). `env.rollout`
#   sets no context; a `Collector` sets RANDOM.
# - A trained value head estimates the discounted return-to-go: the rewards still to come.
#
# **Next:** lesson 10, where loss modules read all these keys (`action_log_prob`,
# `state_value`, `chosen_action_value`) from batches drawn out of a replay buffer.
