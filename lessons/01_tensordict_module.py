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
# # Lesson 01 — A policy is a module that reads and writes keys
#
# In TorchRL, everything an agent sees and does travels in a **TensorDict**: a dictionary
# of tensors that share leading dimensions. A policy is simply a module that *reads* some
# entries of that dictionary and *writes* new ones.
#
# **What you will learn**
#
# - what an environment hands you (`env.reset()`) and what it expects back (`action_spec`);
# - how `TensorDictModule` turns any `torch.nn.Module` into a policy with `in_keys` and `out_keys`;
# - why `nn.LazyLinear` has no weights until its first call;
# - how to read a rollout: the root vs `next`, the `done` / `terminated` / `truncated` flags,
#   and the batch size that counts time steps.

# %%
import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.envs import GymEnv

import rltutor
from rltutor.exercises import lesson01 as ex

torch.manual_seed(0)
env = GymEnv("Pendulum-v1")
env.set_seed(0)  # seeded where it is made, so every run prints the same numbers
env

# %% [markdown]
# ## What the environment hands you
#
# Pendulum is a rod hanging from a motor. You apply a torque; the reward is highest when the
# rod stands upright and still. (Above, `GymEnv` wraps gymnasium's Pendulum and `set_seed`
# fixes its random starts, so your numbers match these. Lessons 01-03 write those two lines
# out; from lesson 04 on, `rltutor.make_env("Pendulum-v1", seed=0)` does both in one.)
# `env.reset()` starts an episode and returns the first TensorDict. Here is what Python's
# own `print` makes of it:

# %%
td = env.reset()
print(td)

# %% [markdown]
# That is correct but hard to scan. `rltutor.show` draws the same TensorDict as a tree, one
# line per entry: shape, dtype, device and the values at a glance. We use it from now on.

# %%
rltutor.show(td)

# %% [markdown]
# `observation` holds three numbers: cos θ, sin θ and the angular velocity. The three flags say
# whether the episode is over (more on them below). What the environment wants back is
# described by its **action spec**: one torque, between -2 and 2.

# %%
spec = env.action_spec
print(type(spec).__name__, "shape", tuple(spec.shape))
print("low", spec.space.low.item(), "high", spec.space.high.item())

# %% [markdown]
# ## A lazy linear layer
#
# Our first policy is a single linear layer from the observation to the torque. We could write
# `nn.Linear(3, 1)`, but we don't even need to know the 3: `nn.LazyLinear(1)` only fixes the
# output size. Its weight is a placeholder, an `UninitializedParameter`, until data flows in.

# %%
linear = nn.LazyLinear(out_features=1)
print(type(linear.weight).__name__)
assert isinstance(linear.weight, nn.parameter.UninitializedParameter)

# %% [markdown]
# ## Wrapping it in a `TensorDictModule`
#
# `linear` takes a tensor and returns a tensor. The environment speaks TensorDicts. A
# `TensorDictModule` is the adapter: it fetches the tensors named in `in_keys`, calls the
# module, and stores the results under `out_keys`. `rltutor.dataflow` shows that wiring.

# %%
policy = TensorDictModule(linear, in_keys=["observation"], out_keys=["action"])
rltutor.dataflow(policy)

# %% [markdown]
# Now call the policy on a fresh reset. It writes into the TensorDict it is given, so we
# pass a copy and keep the original to compare: `rltutor.diff` lists what the call changed.

# %%
before = env.reset()
after = policy(before.clone())
rltutor.diff(before, after)

# %% [markdown]
# One key was added, `action`, and nothing else was touched. The first call also told the
# lazy layer its input size, so the weight now has a real shape: 1 output × 3 inputs.

# %%
print(type(linear.weight).__name__, tuple(linear.weight.shape))
assert linear.weight.shape == (1, 3)
# The wrapper adds nothing but the key plumbing: the plain layer gives the same torque.
assert torch.equal(linear(before["observation"]), after["action"])

# %% [markdown]
# ## A rollout, and how to read it
#
# `env.rollout(n, policy)` resets the environment, then repeats *n* times: the policy writes
# an `action`, the environment steps and writes what happened under `next`, and that `next`
# becomes the input of the following step. All steps are stacked into one TensorDict.
# With `module=policy`, `show` marks which keys the policy reads and which it wrote.

# %%
rollout_td = env.rollout(10, policy)
rltutor.show(rollout_td, module=policy)

# %% [markdown]
# How to read it:
#
# - **batch size `[10]`** — the first dimension is time: entry `t` is step `t`. Every tensor
#   has it in front of its own shape (`[10 | 3]` is 10 steps of a 3-number observation).
# - **the root** is what held *before* the action of step `t`: the observation the policy
#   saw and the action it chose.
# - **`next`** is what came *back* from that action: the new observation, the reward and the
#   flags. Rewards only ever live under `next`.
#
# So the `next` observation of step `t` is the root observation of step `t + 1`:

# %%
print("batch size:", rollout_td.batch_size)
print("root keys:", sorted(rollout_td.keys()))
print("next keys:", sorted(rollout_td["next"].keys()))
assert torch.equal(rollout_td["next", "observation"][:-1], rollout_td["observation"][1:])
assert "reward" not in rollout_td.keys() and ("next", "reward") in rollout_td.keys(True)

# %% [markdown]
# ## `done`, `terminated` and `truncated`
#
# - `terminated`: the task itself ended (the pole fell, the goal was reached). Pendulum has no
#   such ending, so it is always false here.
# - `truncated`: the episode was cut off from outside, by a time limit. Pendulum stops after
#   200 steps.
# - `done`: either of the two. `env.rollout` stops at the first `done` by default.
#
# Asking for 300 steps therefore gives 200, and only the last one is truncated:

# %%
long_td = env.rollout(300, policy)
print("batch size:", long_td.batch_size)
print("truncated at step:", long_td["next", "truncated"].squeeze(-1).nonzero().flatten().tolist())
print("terminated anywhere:", bool(long_td["next", "terminated"].any()))
assert long_td.batch_size == (200,) and bool(long_td["next", "done"][-1])

# %% [markdown]
# ## `rltutor.rollout`: the same call, with checks
#
# rltutor has a `rollout` of its own, used by its widgets and by later lessons. With the
# same settings it *is* `env.rollout`: it checks first that the policy finds the keys it
# reads (and says which one is missing), then makes the very same call. Anything more is
# asked for by keyword: `seed=` seeds torch and the environment, `exploration=` sets an
# exploration type (lesson 03), and `break_when_done=False` resets and goes on past an
# episode end instead of stopping.

# %%
env.set_seed(0)
env_td = env.rollout(300, policy)
env.set_seed(0)
rltutor_td = rltutor.rollout(env, policy, steps=300)
print("same steps, same numbers:", env_td.batch_size, (env_td == rltutor_td).all())
assert (env_td == rltutor_td).all()
nonstop_td = rltutor.rollout(env, policy, steps=300, seed=0, break_when_done=False)
print("with break_when_done=False:", nonstop_td.batch_size, "| done at steps",
      nonstop_td["next", "done"].squeeze(-1).nonzero().flatten().tolist())

# %% [markdown]
# ## Seeing the rollout
#
# `rltutor.plot_rollout` draws the observation (given `env=`, the legend names its
# entries: cos θ, sin θ, angular velocity), the action and the reward over time. The
# weights are random, so don't expect this policy to swing the pendulum up: it just pushes
# with a torque proportional to what it sees. Look at the action panel, and at the range
# printed below it: this policy asks for torques beyond -2. Nothing in a linear layer
# knows about the action spec; gymnasium quietly clips the torque, but the rollout records
# what the policy *asked* for. (How far it asks depends on the random weights: of the
# layers that seeds 0-9 draw, four ask for more than 2 in size within these 200 steps.)
# Exercise 2 fixes that.

# %%
asked = long_td["action"]
print(f"torques asked for: {asked.min():+.2f} to {asked.max():+.2f} (the spec allows -2 to 2)")
assert asked.min() < -2
rltutor.plot_rollout(long_td, env=env)

# %% [markdown]
# ## Play with it
#
# The explorer re-runs the same policy whenever you move a control. Change the **seed** (a
# new starting angle) and the number of **steps**, and watch the plot and the numbers change.
# (It keeps going after an episode ends, resetting the pendulum, so you can ask for more
# than 200 steps.)

# %%
rltutor.explorer(env, policy, controls=("seed", "steps"))

# %% [markdown]
# ## Exercise 1: the score of an episode
#
# An RL agent is judged by its **return**: the sum of every reward it earned in an
# episode. Set `episode_return` to the return of the 200-step episode in `long_td` (one
# number). Where do the rewards live, and along which dimension do you add them up?

# %%
episode_return = None  # TODO: read it from long_td

# %%
ex.check_episode_return(episode_return, long_td)

# %% [markdown]
# ## Exercise 2: a policy that respects the bounds
#
# Our linear policy can ask for any torque; Pendulum silently clips it to [-2, 2]. Build
# `bounded_policy`: a `TensorDictModule` that reads `observation`, writes `action`, and
# whose torque can never leave [-2, 2], whatever it reads, while still reaching the full
# strength of the motor on large inputs. Any `nn.Module` can go inside: think of
# `nn.Sequential` and an activation that saturates.

# %%
bounded_policy = None  # TODO: TensorDictModule(..., in_keys=[...], out_keys=[...])

# %%
ex.check_bounded_policy(bounded_policy)

# %% [markdown]
# ## Recap
#
# - An environment gives and takes **TensorDicts**; its `action_spec` says what an action is.
# - `TensorDictModule(module, in_keys, out_keys)` makes a policy from any `nn.Module`: it reads
#   the `in_keys`, calls the module, writes the `out_keys`.
# - `nn.LazyLinear` learns its input size on the first call; until then its weight is an
#   `UninitializedParameter`.
# - A rollout is a TensorDict whose batch dimension is time. The root is what the policy saw
#   and did; `next` is what came back (new observation, reward, flags). `done` is
#   `terminated` (the task ended) or `truncated` (a time limit cut it).
#
# **Next:** lesson 02 replaces the hand-made wrapper with TorchRL's `Actor`, swaps the linear
# layer for an `MLP`, and reads pixels with a `ConvNet`.
