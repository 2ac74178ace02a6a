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
# - collect batches of experience with a `Collector`, and let it add the transforms a
#   policy needs (`auto_register_policy_transforms`, for lesson 06's LSTM)
# - run a **distributed collector** for real: worker processes, their process ids, batches
#   coming back, new weights pushed out, and frames per second against the number of workers
# - what changes when the workers sit on other machines

# %%
import multiprocessing
import os
from functools import partial

import ipywidgets as widgets
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.collectors import Collector
from torchrl.collectors.distributed import DistributedCollector
from torchrl.envs import GymEnv, ParallelEnv, SerialEnv
from torchrl.modules import AdditiveGaussianModule, LSTMModule

# %%
import rltutor
from rltutor.addons.distributed import (frames_per_second, free_port, make_pendulum_actor,
                                        plot_frames_per_second, plot_workers, shut_down_on_exit)
from rltutor.addons.distributed import make_pendulum as make_stamped_pendulum
from rltutor.devices import available_devices
from rltutor.exercises import lesson08 as ex
from rltutor.plots import make_picture, series_style
from rltutor.start_methods import using_start_method

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
def plot_batch_rewards(rollout_td, title="reward per environment"):
    fig, ax = make_picture(figsize=(8, 2.8))
    rewards = rollout_td["next", "reward"].squeeze(-1)  # [envs, time]
    for i, row in enumerate(rewards):  # each env: a colour, a line style and a marker
        ax.plot(row.numpy(), lw=1.3, ms=3, markevery=10, label=f"env {i}", **series_style(i))
    ax.set(xlabel="step", ylabel="reward", title=title)
    ax.legend(loc="lower right", fontsize=8, ncol=len(rewards))
    return fig


plot_batch_rewards(rollout_td)

# %% [markdown]
# ### ParallelEnv: one process per environment
#
# `ParallelEnv` has the same interface, but each copy lives in its own worker process,
# which pays off when stepping an environment is expensive. Starting workers costs
# time: with the default start method, `spawn`, every worker imports torch and torchrl
# again, which takes as long as `import torchrl` in a fresh Python (seconds; `make bench`
# measures it on your machine). On Linux without CUDA, `fork` copies the running process
# instead and starts in a fraction of a second. (With CUDA, keep `spawn`: a forked CUDA
# context is not safe.) `mp_start_method=` sets it for this one environment; the rest of
# the kernel keeps its own (`spawn`, which TorchRL sets when it is imported).

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
# random actions. A classic way to get a spec on the wrong device: build the exploration
# module from the spec, *then* move the environment and policy to the GPU. What happens
# next depends on the module (we ran both on a CUDA machine; `tests/test_cuda.py` checks
# it there):
#
# - `EGreedyModule` **raises** a `RuntimeError` at the first step of the rollout;
# - `AdditiveGaussianModule` **runs without a word**: it copies what it needs across the
#   devices at every step, which is slower, and nothing tells you why.
#
# `check_policy` finds it without running anything: it compares where the spec lives with
# where the environment puts the action. So that this cell shows the finding on every
# machine, with or without a GPU, we put a copy of the spec on PyTorch's `meta` device
# (tensors without data) to play "another device"; we only inspect this policy, never
# run it.

# %%
one_env = GymEnv("Pendulum-v1", device=device)  # one env keeps this demo short
one_policy = rltutor.make_actor(one_env, num_cells=(32, 32))
stale_spec = one_env.action_spec.to("meta")  # plays a spec left on another device
noisy_policy = TensorDictSequential(one_policy, AdditiveGaussianModule(spec=stale_spec))
rltutor.check_policy(noisy_policy, one_env)

# %% [markdown]
# The fix: build the exploration module from the spec of the environment *as it runs*:

# %%
noisy_policy = TensorDictSequential(policy, AdditiveGaussianModule(spec=env.action_spec))
print(rltutor.check_policy(noisy_policy, env))
print("noisy rollout on the 3 envs:", env.rollout(5, noisy_policy).batch_size)

# %% [markdown]
# ## Play: the device control
#
# The explorer (met in lesson 01) works on batched environments too: its plot draws one
# line per environment. The noise module perturbs every step of every environment, so
# rather than mark each step the explorer draws, for env 0, the action without noise
# (dashed) and the dotted band where 90 % of the noisy actions fall: ±1.645 σ around it,
# with the module's default σ = 1, clipped to the action bounds [-2, 2] as the actions
# are. Its **device** dropdown offers only the devices this machine
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
def plot_batched_rollout(num_envs=3, device="cpu", seed=0):
    env = SerialEnv(num_envs, make_pendulum, device=device)
    env.set_seed(seed)
    policy = rltutor.make_actor(env, num_cells=(32, 32), seed=seed)
    with torch.no_grad():
        rollout_td = env.rollout(100, policy)
    env.close()
    return plot_batch_rewards(rollout_td, f"{num_envs} envs on {device}: "
                              f"batch {tuple(rollout_td.batch_size)}")


# %%
rltutor.interact_figure(plot_batched_rollout, num_envs=widgets.IntSlider(value=3, min=1, max=6),
                        device=widgets.Dropdown(options=available_devices()),
                        seed=widgets.IntSlider(value=0, min=0, max=9))

# %% [markdown]
# ## A data collector
#
# Training code rarely calls `env.rollout` itself. A **collector** runs the policy in the
# environment and hands out batches of a fixed number of frames, resetting finished
# episodes as it goes. At this TorchRL version the class is `torchrl.collectors.Collector`
# (older tutorials say `SyncDataCollector`). By default it acts with
# `ExplorationType.RANDOM`, since its data is for learning.

# %%
collector = Collector(env, policy, frames_per_batch=60, total_frames=180,
                      auto_register_policy_transforms=True)
for i, batch in enumerate(collector):
    print(f"batch {i}: batch_size {tuple(batch.batch_size)}, frames {batch.numel()}")
collector.shutdown()
print("is_init in the batch (from the InitTracker it added):", "is_init" in batch.keys())
rltutor.show(batch, module=policy)

# %% [markdown]
# 60 frames from 3 environments come as `[3, 20]`: 20 steps of each. The collector adds
# `collector.traj_ids` so you can tell trajectories apart after they are flattened.
#
# ### What `auto_register_policy_transforms` does
#
# A collector looks at the policy and works out which environment transforms it needs.
# With `auto_register_policy_transforms=True` it appends them; at TorchRL 0.14.1, leaving
# the argument out only prints a `FutureWarning` (0.15 makes `True` the default). Even
# this plain MLP actor gets an `InitTracker` (the `is_init` entry above), so the warning
# shows up for every policy, not only for recurrent ones; pass the flag either way.
#
# Where it really matters is lesson 06's LSTM policy. It reads `is_init` and a recurrent
# state that a plain Pendulum does not provide. Opting out (`False`), the collector
# fails at once:

# %%
_ = torch.manual_seed(0)
lstm = LSTMModule(input_size=3, hidden_size=16, in_key="observation", out_key="memory")
head = TensorDictModule(nn.Sequential(nn.Linear(16, 1), nn.Tanh()),
                        in_keys=["memory"], out_keys=["action"])
lstm_policy = TensorDictSequential(lstm, head)
with rltutor.expect_error(KeyError):
    Collector(make_pendulum(), lstm_policy, frames_per_batch=20, total_frames=20,
              auto_register_policy_transforms=False).next()

# %% [markdown]
# With `True` the collector appends `InitTracker` and the LSTM's primer (lesson 06's
# fix, done for you), and the memory travels from step to step:

# %%
pendulum = make_pendulum()
pendulum.set_seed(0)
lstm_collector = Collector(pendulum, lstm_policy, frames_per_batch=20, total_frames=20,
                           auto_register_policy_transforms=True)
print("transforms added:", [type(t).__name__ for t in lstm_collector.env.transform])
lstm_batch = lstm_collector.next()
lstm_collector.shutdown()
h_read, h_written = lstm_batch["recurrent_state_h"], lstm_batch["next", "recurrent_state_h"]
print("step 0 reads the primer's zeros:", bool((h_read[0] == 0).all()))
print("each next step reads the state the step before wrote:",
      torch.equal(h_read[1:], h_written[:-1]), "| that state is non-zero:",
      bool((h_written[:-1] != 0).any(dim=(-2, -1)).all()))

# %% [markdown]
# ## Past one process
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
#
# This collector has no `mp_start_method=`: it starts its workers, in its constructor,
# with the kernel's global start method. `multiprocessing.set_start_method(...,
# force=True)` would change that for the rest of the kernel, and every `ParallelEnv`
# made later would start its workers the same way. `using_start_method` sets it for one
# block only and puts the previous one back.

# %%
with using_start_method(start_method):  # only for the workers started in this block
    multi = Collector(make_pendulum, policy, num_collectors=2, sync=True, device=device,
                      frames_per_batch=60, total_frames=120,
                      auto_register_policy_transforms=True)
for batch in multi:
    print("batch from 2 workers:", tuple(batch.batch_size))
multi.update_policy_weights_()  # after a training step: send the new weights out
multi.shutdown()

# %% [markdown]
# ## Past one machine: a distributed collector, run here
#
# A cluster collector has one **learner** (rank 0: here, this kernel) and **workers**
# (ranks 1, 2, ...), each running an ordinary `Collector` on its own environment. They
# find each other over TCP and exchange tensors with `torch.distributed`. TorchRL's
# `DistributedCollector` (in `torchrl.collectors.distributed`) does exactly that, and
# with `launcher="mp"` it starts the workers as processes on this machine: a real
# cluster run, only with short wires.
#
# We use it rather than `RayCollector` because it needs nothing beyond torch: the `gloo`
# backend (CPU tensors over TCP) ships with every torch build, and the workers are
# plain processes of this machine that are gone when shut down. Ray would
# be one more large dependency and a Ray cluster (its own head and daemon processes)
# to start before the first frame, even on one machine.
#
# A worker is a fresh process, so it gets the environment factory and the policy
# factory by **pickling**. Keep them in a module, importable: a policy factory defined
# in a notebook cell cannot be unpickled in the worker, the worker dies at start, and at
# TorchRL 0.14.1 the learner then waits for it with no time limit (`shut_down_on_exit`
# says which worker died; restart the kernel to get out). The env factory happens to
# travel by cloudpickle, which copies a notebook function's code, but the same habit
# serves both. `rltutor.addons.distributed` has the two we
# need: `make_pendulum(seed)`, a seeded Pendulum whose frames carry the id of the
# process that stepped them (`worker_pid`), and `make_pendulum_actor(seed)`, the actor
# of this lesson. The start method is **forkserver**: each worker is forked from a clean
# helper process, so it inherits none of this kernel's threads and sockets. Whatever the
# helper loaded first (`preload=`), every worker gets for free: here
# `rltutor.addons.worker_preload` imports torch and torchrl and builds one Pendulum, so a worker
# skips all of that instead of starting from a bare Python (`make bench` times a cold
# and a warm start). As above, `using_start_method` sets it only while the workers start.

# %% [markdown]
# Every argument below is TorchRL's. Two are about this machine: `launcher="mp"` starts
# the workers here, and `tcp_port` is a port the operating system says is free (the
# default is a fixed port, 10003: two notebooks, or two lessons tested side by side,
# would fight over it). `policy_factory` lets each worker build its own policy: a
# policy *object* handed to local processes reaches them through shared memory, so the
# workers would see every change to it without a message being sent. Built in the
# worker, as on a real cluster, its weights change only when you push new ones.

# %%
def start_workers(num_workers, batches, frames_per_worker=100):
    with using_start_method("forkserver", preload=["rltutor.addons.worker_preload"]):
        return DistributedCollector(
            [partial(make_stamped_pendulum, seed=i) for i in range(num_workers)],  # 1 each
            policy_factory=make_pendulum_actor,  # each worker builds its own copy
            frames_per_batch=frames_per_worker * num_workers,
            total_frames=frames_per_worker * num_workers * batches,
            collector_class=Collector,           # what each worker runs
            collector_kwargs={"auto_register_policy_transforms": True},
            launcher="mp", backend="gloo",       # processes here; torch.distributed, TCP
            sync=True,                           # wait for all workers, stack their batches
            tcp_port=free_port(),                # never a fixed port
        )

# %% [markdown]
# Two workers, three batches. Between batches we play the learner: after batch 0 a
# stand-in for a training step changes the learner's policy (`collector.policy`, built
# by the same factory) so that it always answers 1.5; after batch 1 we push the new
# weights with `update_policy_weights_()`. `shut_down_on_exit` calls
# `collector.shutdown()` when the block ends and checks that no worker is left, even if
# the cell fails half-way.

# %%
with shut_down_on_exit() as cleanup:
    collector = cleanup.track(start_workers(2, batches=3))
    worker_pids = [job.pid for job in collector.jobs]
    batches = []
    for i, batch in enumerate(collector):
        batches.append(batch)
        if i == 0:  # "training": the learner's policy now always answers 1.5
            with torch.no_grad():
                collector.policy.module[-1].weight.zero_()
                collector.policy.module[-1].bias.fill_(1.5)
        if i == 1:
            collector.update_policy_weights_()  # send the new weights to every worker
print("worker processes still running:", cleanup.alive())

# %% [markdown]
# Each batch is `[workers, steps]`. Every frame carries the id of the process that
# stepped it, so we can check who did the work (the ids change from run to run, so the
# picture shows them and the text only compares them):

# %%
stamps = batches[0]["worker_pid"]
print("batch_size:", tuple(batches[0].batch_size), "= [workers, steps]")
for rank, pid in enumerate(worker_pids, start=1):
    print(f"row {rank - 1}: all stepped by worker {rank}'s process:",
          bool((stamps[rank - 1] == pid).all()))
print("frames stepped in this kernel:", int((stamps == os.getpid()).sum()))
plot_workers(learner_pid=os.getpid(), worker_pids=worker_pids, frames_per_worker=100,
             address=f"localhost:{collector.tcp_port}")

# %% [markdown]
# And the weights. Batch 1 was collected *after* the learner's policy changed, yet the
# workers still acted with their own copies; only after `update_policy_weights_()` do
# they answer 1.5:

# %%
for i, batch in enumerate(batches):
    first = "  ".join(" ".join(f"{a:+.2f}" for a in row)
                      for row in batch["action"][:, :3, 0].tolist())
    print(f"batch {i}: first actions per worker  {first}   "
          f"all 1.5: {bool((batch['action'] == 1.5).all())}")

# %% [markdown]
# ### Frames per second against the number of workers
#
# Each worker steps its own environment in its own process, so more workers collect
# more frames per second, as long as there are cores for them; the learner needs one
# too. The dashed line is perfect scaling (one worker's rate times the number of
# workers). Timings change from run to run, so they are drawn, not printed.

# %%
rates = {}
for num_workers in (1, 2, 3):
    with shut_down_on_exit() as cleanup:
        collector = cleanup.track(start_workers(num_workers, batches=5))
        rates[num_workers] = frames_per_second(collector, batches=4)
plot_frames_per_second(rates)

# %% [markdown]
# Every start method in this lesson was set for one environment or one block, so the
# kernel is left as it was: a `ParallelEnv` you make now starts its workers the default
# way.

# %%
print("the kernel's start method now:", multiprocessing.get_start_method())

# %% [markdown]
# ### When the workers sit on other machines
#
# The loop above does not change. What changes is around it:
#
# - **Launcher.** `launcher="mp"` can only start processes here. `"submitit"` submits
#   each worker as a SLURM job (`slurm_kwargs` picks partition, time, CPUs/GPUs);
#   `"submitit_delayed"` is for clusters that cannot start jobs from inside a job.
# - **Addresses.** With `"mp"` everyone meets at `localhost`. Otherwise the learner
#   listens on its own host's address (TorchRL looks it up from the host name) at
#   `tcp_port`, plus a key-value store on the next ports; every worker must be able to
#   reach those ports (same network, firewall open). Between GPUs, `backend="nccl"`.
# - **What crosses the network.** Once, at the start: each worker's environment factory
#   and policy factory, pickled, which is why they must be importable on every machine
#   (same code, same package versions). Then each batch, worker to learner, and each
#   weight push, learner to every worker. The environment itself never travels: it is
#   built and stepped where its worker runs. Sizes for this lesson:

# %%
weight_bytes = sum(p.numel() * p.element_size() for p in make_pendulum_actor().parameters())
print(f"one worker's batch, worker -> learner: {batches[0][0].bytes() / 1024:.1f} KiB")
print(f"one weight push, learner -> each worker: {weight_bytes / 1024:.1f} KiB")

# %% [markdown]
# The policy itself is untouched from single-env rollout to cluster: only who calls it
# changes.
#
# ## Exercise 1: read the batch dimensions
#
# Pendulum's reward is highest (closest to 0) when the pole is up and still. From
# `rollout_td` (3 environments, 100 steps) find, for **each environment**, the step at
# which its reward was highest: `best_steps`, one step index per environment.

# %%
best_steps = None  # TODO: one step index per environment, from rollout_td["next", "reward"]

# %%
ex.check_best_steps(best_steps, rollout_td)

# %% [markdown]
# ## Exercise 2: when does `ParallelEnv` pay off?
#
# Measure it. `ex.make_slow_pendulum` builds a Pendulum whose every step takes 50 ms
# longer, as if a physics engine ran behind it. For both factories, `make_pendulum` and
# `ex.make_slow_pendulum`, build a `SerialEnv(4, ...)` and a `ParallelEnv(4, ...,
# mp_start_method=start_method)` (both with `device=device`, where `policy` lives), reset
# each once, then time `env.rollout(20, policy)` alone (not the start-up) with
# `time.perf_counter()`. Put the seconds in `seconds`, keyed `("serial", "pendulum")`,
# `("parallel", "pendulum")`, `("serial", "slow")` and `("parallel", "slow")`, and set
# `why` to the letter of the sentence below that explains your four numbers. Close the
# environments when you are done.

# %%
for letter, reason in ex.REASONS.items():
    print(f"{letter}) {reason}")
seconds = None  # TODO: a dict of four timings, in seconds
why = None  # TODO: "a", "b", "c" or "d"

# %%
ex.check_parallel_timing(seconds, why)

# %% [markdown]
# ## Recap
#
# - `SerialEnv`/`ParallelEnv` add a leading batch dimension; rollouts are `[envs, time]`;
#   the policy needs no change.
# - Pick the device once (`"cuda" if torch.cuda.is_available() else "cpu"`), build the
#   env on it and the policy from the env. Exploration modules keep their spec: build
#   them from the env's spec *after* moving it. `check_policy` catches a mismatch.
# - `Collector(env, policy, frames_per_batch=..., total_frames=...)` yields batches;
#   `auto_register_policy_transforms=True` appends what the policy needs (an LSTM's
#   `InitTracker` and primer); `num_collectors=` spreads it over processes. Set a start
#   method for one env (`mp_start_method=`) or one block (`using_start_method`), never
#   for the whole kernel. `ParallelEnv` pays off when a step costs more than sending it
#   to a worker and back.
# - `DistributedCollector` spreads it over machines: a learner (rank 0) and workers
#   talking over `torch.distributed`. Env and policy factories must be importable; each
#   worker keeps its own copy of the weights until `update_policy_weights_()`; pick a
#   free `tcp_port`, and shut the workers down even when a cell fails
#   (`shut_down_on_exit`). On a cluster only the launcher and the addresses change.
#
# **Next:** lesson 09 puts a critic beside the policy.
