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
# # Lesson 08 — Batched environments, devices and collectors
#
# So far one policy drove one environment on the CPU. Training wants more: many
# environments at once, a GPU for the network, and batches of experience streaming in.
# The good news: a TorchRL policy does not change. Batching is one more dimension in the
# TensorDict, a device is a property of the tensors (and of the specs), and a collector
# is a loop around `env.rollout` that you can spread over processes and machines.
#
# **What you will learn**
# - run one policy on `SerialEnv` / `ParallelEnv`: the batch dimension `[envs, time]`
# - move environment and policy to a GPU when there is one, and why the **action spec's
#   device** matters for exploration modules
# - collect batches of experience with a `Collector`
# - how the same code scales to several processes and several machines

# %%
import torch
from torchrl.envs import GymEnv, ParallelEnv, SerialEnv

import rltutor
from rltutor.exercises import lesson08 as ex
from rltutor.validation import available_devices

_ = torch.manual_seed(0)

# %% [markdown]
# ## Many environments, one TensorDict
#
# `SerialEnv(n, make_env)` builds `n` copies of an environment from a function and steps
# them one after the other in this process. Everything it returns gains a leading batch
# dimension of size `n`.

# %%
def make_pendulum():
    return GymEnv("Pendulum-v1")


env = SerialEnv(3, make_pendulum, device="cpu")
env.set_seed(0)  # copy 0 gets seed 0, each next copy a seed derived from the one before
print("batch_size:", env.batch_size, "  action spec shape:", env.action_spec.shape)
rltutor.show(env.reset())

# %% [markdown]
# The policy is the same kind of module as in lesson 02. It is built from the
# environment's specs, and its layers act on the last dimension, so a batch of 3
# observations simply gives 3 actions. A rollout is `[envs, time]`:

# %%
policy = rltutor.make_actor(env, num_cells=(32, 32))
rollout_td = env.rollout(100, policy)
print("rollout batch_size:", rollout_td.batch_size)
rltutor.show(rollout_td, module=policy)

# %%
import matplotlib.pyplot as plt


def plot_batch_rewards(rollout_td, title="reward per environment"):
    fig, ax = plt.subplots(figsize=(8, 2.8))
    rewards = rollout_td["next", "reward"].squeeze(-1)  # [envs, time]
    for i, row in enumerate(rewards):
        ax.plot(row.numpy(), lw=1.3, label=f"env {i}")
    ax.set(xlabel="step", ylabel="reward", title=title)
    ax.legend(loc="lower right", fontsize=8, ncol=len(rewards))
    plt.close(fig)
    return fig


plot_batch_rewards(rollout_td)

# %% [markdown]
# ### ParallelEnv: one process per environment
#
# `ParallelEnv` has the same interface, but each copy lives in its own worker process,
# which pays off when stepping an environment is expensive. Starting workers costs
# time: with the default start method, `spawn`, every worker imports torch and torchrl
# again (about 5 s on this 2-core machine). On Linux without CUDA, `fork` copies the
# running process instead and starts in a fraction of a second. (With CUDA, keep
# `spawn`: a forked CUDA context is not safe.)

# %%
start_method = "fork" if not torch.cuda.is_available() else "spawn"
parallel_env = ParallelEnv(2, make_pendulum, mp_start_method=start_method)
parallel_env.set_seed(0)
parallel_td = parallel_env.rollout(50, policy)
parallel_env.close()
print(f"ParallelEnv with {start_method}: batch {tuple(parallel_td.batch_size)}")

# %% [markdown]
# ## Devices: the same code on a GPU
#
# Pick the device once and build everything from it. On a machine without a GPU,
# `available_devices()` lists only the CPU and the code below stays there; on a CUDA
# machine the very same cell puts environment outputs, specs and the policy on `cuda`.

# %%
print("devices on this machine:", available_devices())
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
env = SerialEnv(3, make_pendulum, device=device)
env.set_seed(0)
policy = rltutor.make_actor(env, num_cells=(32, 32))  # built on env.device
print("env:", env.device, "| action spec:", env.action_spec.device,
      "| policy:", next(policy.parameters()).device)

# %% [markdown]
# ### Why the action spec's device matters
#
# Exploration modules (`EGreedyModule`, `AdditiveGaussianModule`, OU noise) keep the
# action spec they were given: it tells them the bounds to clip to and where to draw
# random actions. If that spec is on another device than the action, `EGreedyModule`
# refuses at the first step, while the noise modules quietly copy tensors between the
# devices at every step. A classic way to get there: build the exploration module from
# the spec, *then* move the environment and policy to the GPU.
#
# So that this cell shows the same thing on every machine, with or without a GPU, we let
# PyTorch's `meta` device (tensors without data) stand in for "a different device".

# %%
from tensordict.nn import TensorDictSequential
from torchrl.modules import AdditiveGaussianModule

one_env = GymEnv("Pendulum-v1", device=device)  # one env keeps this demo short
one_policy = rltutor.make_actor(one_env, num_cells=(32, 32))
stale_spec = one_env.action_spec.to("meta")  # stands in for a spec left on another device
noisy_policy = TensorDictSequential(one_policy, AdditiveGaussianModule(spec=stale_spec))
rltutor.check_policy(noisy_policy, one_env)

# %% [markdown]
# Running it fails, but only because a `meta` tensor has no data to copy: with a real
# CPU/CUDA mismatch this module would run and copy every step (and `EGreedyModule` would
# raise). With rltutor's exception hints installed (`rltutor.install()` does it
# in a notebook; here we call `install_hints` directly) the error gets a hint under it:

# %%
from rltutor.diagnostics import install_hints

install_hints()
one_env.rollout(5, noisy_policy)

# %% [markdown]
# The fix: build the exploration module from the spec of the environment *as it runs*:

# %%
noisy_policy = TensorDictSequential(policy, AdditiveGaussianModule(spec=env.action_spec))
print(rltutor.check_policy(noisy_policy, env))
print("noisy rollout on the 3 envs:", env.rollout(5, noisy_policy).batch_size)

# %% [markdown]
# ## Play: the device control
#
# The explorer from lesson 04 works on batched environments too: its plot draws one
# line per environment. Its **device** dropdown offers only the devices this machine
# has. Choosing one moves the environment, the policy's parameters *and* the spec the
# exploration module keeps (`policy.to(device)` alone would leave that spec behind);
# the summary says where the action tensor ended up.

# %%
rltutor.explorer(env, noisy_policy, controls=("exploration", "device", "seed", "steps"),
                 steps=100)

# %% [markdown]
# ## Play: how many environments
#
# Change the number of environments, the device and the seed. Here the environment and
# the policy are rebuilt from scratch each time, on the chosen device.

# %%
def batched_rollout(num_envs=3, device="cpu", seed=0):
    env = SerialEnv(num_envs, make_pendulum, device=device)
    env.set_seed(seed)
    policy = rltutor.make_actor(env, num_cells=(32, 32), seed=seed)
    with torch.no_grad():
        rollout_td = env.rollout(100, policy)
    env.close()
    return plot_batch_rewards(rollout_td, f"{num_envs} envs on {device}: "
                              f"batch {tuple(rollout_td.batch_size)}")


# %%
import ipywidgets as widgets

rltutor.interact_figure(batched_rollout, num_envs=widgets.IntSlider(3, 1, 6),
                        device=widgets.Dropdown(options=available_devices()),
                        seed=widgets.IntSlider(0, 0, 9))

# %% [markdown]
# ## A data collector
#
# Training code rarely calls `env.rollout` itself. A **collector** runs the policy in the
# environment and hands out batches of a fixed number of frames, resetting finished
# episodes as it goes. At this TorchRL version the class is `torchrl.collectors.Collector`
# (older tutorials say `SyncDataCollector`). By default it acts with
# `ExplorationType.RANDOM`, since its data is for learning.

# %%
from torchrl.collectors import Collector

# auto_register_policy_transforms: from TorchRL 0.15 a collector adds the transforms a
# policy needs (InitTracker, recurrent primers: lesson 06) by itself; 0.14 only warns.
collector = Collector(env, policy, frames_per_batch=60, total_frames=180,
                      auto_register_policy_transforms=False)
for i, batch in enumerate(collector):
    print(f"batch {i}: batch_size {tuple(batch.batch_size)}, frames {batch.numel()}")
collector.shutdown()
rltutor.show(batch, module=policy)

# %% [markdown]
# 60 frames from 3 environments come as `[3, 20]`: 20 steps of each. The collector adds
# `collector.traj_ids` so you can tell trajectories apart after they are flattened.
#
# ## Past one process, past one machine
#
# The step up is always the same: give the collector a **function that builds the
# environment** (not an environment object: each worker builds its own copy) and the
# policy, then choose where the workers run. `num_collectors=2` starts two worker
# processes, each with its own environment and a copy of the policy; `sync=True` waits
# for both and stacks their batches along a new leading dimension, so 60 frames come as
# `[2, 30]`. (Same start-method story as `ParallelEnv`.)
#
# `make_pendulum` builds its environment on the CPU, while `policy` lives on `device`.
# `device=device` tells the collector to put each worker's environment there too. (Leave
# it out on a GPU machine and the first step fails with "Expected all tensors to be on
# the same device".)

# %%
import torch.multiprocessing as mp

mp.set_start_method(start_method, force=True)
multi = Collector(make_pendulum, policy, num_collectors=2, sync=True, device=device,
                  frames_per_batch=60, total_frames=120, auto_register_policy_transforms=False)
for batch in multi:
    print("batch from 2 workers:", tuple(batch.batch_size))
multi.update_policy_weights_()  # after a training step: send the new weights out
multi.shutdown()

# %% [markdown]
# On a cluster, the same arguments go to a distributed collector: each **node** runs
# collector workers and the learner receives the batches. TorchRL ships them in
# `torchrl.collectors.distributed`: `DistributedCollector` (torch.distributed; launched
# with `launcher="submitit"` on SLURM or `"mp"` locally), `RPCCollector` (torch RPC) and
# `RayCollector` (Ray). `Collector(..., backend="distributed" | "rpc" | "ray")` picks one
# for you. A sketch (not run here: it needs a cluster):
#
# ```python
# from torchrl.collectors.distributed import DistributedCollector
#
# collector = DistributedCollector(
#     [make_pendulum] * 8,             # 8 remote collectors, one env factory each
#     policy,
#     frames_per_batch=1_000, total_frames=1_000_000,
#     launcher="submitit",              # one SLURM job per collector
#     slurm_kwargs={"timeout_min": 60, "slurm_partition": "cpu"},
# )
# for batch in collector:               # batches arrive on the learner
#     loss = ...                        # train the policy
#     collector.update_policy_weights_()
# ```
#
# The policy itself is untouched from single-env rollout to cluster: only who calls it
# changes.
#
# ## Exercise: read the batch dimensions
#
# From `rollout_td` (3 environments, 100 steps) take the rewards of **environment 2**,
# all 100 steps, into `env2_rewards`.

# %%
env2_rewards = None  # TODO: index the environment dimension of rollout_td["next", "reward"]

# %%
ex.check_env2_rewards(env2_rewards, rollout_td)

# %% [markdown]
# ## Exercise: your own collector
#
# Build `my_collector`: a `Collector` over a `SerialEnv` of **4** Pendulums that runs
# `policy` and yields batches of **80** frames (so each batch is `[4, 20]`), 160 frames
# in total.

# %%
my_collector = None  # TODO: Collector(SerialEnv(4, make_pendulum), policy, ...)

# %%
ex.check_collector(my_collector)

# %% [markdown]
# ## Recap
#
# - `SerialEnv`/`ParallelEnv` add a leading batch dimension; rollouts are `[envs, time]`;
#   the policy needs no change.
# - Pick the device once (`"cuda" if torch.cuda.is_available() else "cpu"`), build the
#   env on it and the policy from the env. Exploration modules keep their spec: build
#   them from the env's spec *after* moving it. `check_policy` catches a mismatch.
# - `Collector(env, policy, frames_per_batch=..., total_frames=...)` yields batches;
#   `num_collectors=` spreads it over processes, and `torchrl.collectors.distributed`
#   over machines, all with the same policy.
#
# **Next:** you have met every kind of TorchRL policy. Go back to any lesson's explorer
# and predict what a slider will do before you move it.
