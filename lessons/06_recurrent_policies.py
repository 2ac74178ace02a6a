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
# # Lesson 06 — Recurrent policies: a policy with memory
#
# Some tasks cannot be solved from the current observation alone. A pendulum seen only
# as an angle does not tell you how fast it swings; two snapshots do. A recurrent
# policy keeps a *hidden state* from step to step. In TorchRL that state is not hidden
# inside the module: it travels in the TensorDict, like everything else.
#
# **What you will learn**
# - build a policy around `LSTMModule` and read its `in_keys`/`out_keys`
# - where the recurrent state lives in the TensorDict (`recurrent_state_h/c`, `is_init`)
# - why the environment needs the module's **primer**, and what silently goes wrong
#   without it
# - sequential vs recurrent mode with the `set_recurrent_mode` context manager
# - evidence that the hidden state remembers what the observation hides

# %%
import ipywidgets as widgets
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.envs import GymEnv, InitTracker, TransformedEnv, UnaryTransform
from torchrl.modules import LSTMModule, set_recurrent_mode

import rltutor
from rltutor.exercises import lesson06 as ex
from rltutor.plots import PALETTE, make_picture

_ = torch.manual_seed(0)

# %% [markdown]
# ## A pendulum without its speedometer
#
# Pendulum's observation is `[cos θ, sin θ, ω]` (angle θ, angular velocity ω). We hide ω: a
# `UnaryTransform` writes a new entry `position` holding only the first two numbers, and
# the policy will read `position` only. (`observation` stays in the TensorDict so that
# *we* can check the policy's memory later; the policy never reads it.)
#
# `InitTracker()` adds an `is_init` flag that is `True` on the first step of every
# episode: the recurrent module uses it to reset its state.

# %%
def make_pomdp_env(seed: int = 0) -> TransformedEnv:
    hide_velocity = UnaryTransform(
        in_keys=["observation"], out_keys=["position"], fn=lambda obs: obs[..., :2]
    )
    env = TransformedEnv(GymEnv("Pendulum-v1"), InitTracker())
    env.append_transform(hide_velocity)
    env.set_seed(seed)
    return env


env = make_pomdp_env()
rltutor.show(env.reset())

# %% [markdown]
# ## An LSTM policy
#
# `LSTMModule` wraps `torch.nn.LSTM` for TensorDicts. We tell it which key to read
# (`in_key`) and where to write its output (`out_key`); a linear head turns that
# output into a torque.

# %%
lstm = LSTMModule(input_size=2, hidden_size=16, in_key="position", out_key="memory")
head = TensorDictModule(
    nn.Sequential(nn.Linear(16, 1), nn.Tanh()), in_keys=["memory"], out_keys=["action"]
)
policy = TensorDictSequential(lstm, head)
print("in_keys: ", lstm.in_keys)
print("out_keys:", lstm.out_keys)

# %% [markdown]
# The module reads more than `position`: it also reads the previous state
# (`recurrent_state_h` and `recurrent_state_c`, the LSTM's two state tensors) and
# `is_init`. It writes the *new* state under `next`, exactly where the environment
# puts the next observation. `dataflow` shows which keys must come from the environment:

# %%
rltutor.dataflow(policy)

# %% [markdown]
# ## The silent bug: no primer
#
# Our environment knows nothing about `recurrent_state_h`. Let us roll out anyway.

# %%
env.set_seed(0)
with torch.no_grad():
    forgetful_td = env.rollout(100, policy)
print("state at the root of step 1? ", "recurrent_state_h" in forgetful_td.keys())
print("state written under next?    ", ("next", "recurrent_state_h") in forgetful_td.keys(True))

# %% [markdown]
# No error, no warning. The module wrote its new state under `next`, but when the
# environment stepped, it kept only the keys it knows (its specs). The state was
# dropped, so every step started again from zeros. Proof: the state written at each
# step is exactly what a *fresh* LSTM makes of that step's position alone.

# %%
alone = TensorDict(
    position=forgetful_td["position"], is_init=torch.ones(100, 1, dtype=torch.bool),
    batch_size=[100],
)
with torch.no_grad():
    fresh = lstm(alone)
same = torch.allclose(forgetful_td["next", "recurrent_state_h"], fresh["next", "recurrent_state_h"])
print("every step forgot the past:", same)
assert same

# %% [markdown]
# `rltutor.check_policy` knows this mistake (and a few others) and says how to fix it:

# %%
rltutor.check_policy(policy, env)

# %% [markdown]
# ## The fix: the module's primer
#
# `lstm.make_tensordict_primer()` returns a `TensorDictPrimer` transform. Appended to the
# environment, it declares `recurrent_state_h/c` in the environment's specs (so a step
# carries them over from `next` to the root) and fills them with zeros at reset.

# %%
env.append_transform(lstm.make_tensordict_primer())
print(rltutor.check_policy(policy, env))
rltutor.show(env.reset())

# %% [markdown]
# One step, before and after the policy: the policy adds its output `memory`, the
# action and the *next* state. `env.rollout` (through `step_mdp`) then moves `next` to the
# root for the step after.

# %%
td = env.reset()
rltutor.diff(td, policy(td.clone()))

# %%
env.set_seed(0)
with torch.no_grad():
    rollout_td = env.rollout(100, policy)
read, written = rollout_td["recurrent_state_h"], rollout_td["next", "recurrent_state_h"]
carried = torch.equal(read[1:], written[:-1])
print("state read at step t == state written at step t-1:", carried)
assert carried
rltutor.show(rollout_td, module=policy)

# %% [markdown]
# ## Sequential vs recurrent mode: replaying a stored trajectory
#
# Acting, the module sees one step at a time and reads the state from the TensorDict:
# that is **sequential mode** (the default). Training replays stored trajectories, and
# there the stored states are no help: a replay buffer often keeps only observations,
# and even when it keeps the states, they were computed by the network *before* its last
# update, so they are stale. The replay must rebuild the memory from the observations,
# starting from zeros wherever `is_init` marks an episode start. That is **recurrent
# mode**, switched on with the `set_recurrent_mode` context manager: the module runs the
# LSTM over the TensorDict's last batch dimension, read as time.
#
# Keep only what a buffer of observations holds, `position` and `is_init`, and replay it
# both ways:

# %%
stored = rollout_td.select("position", "is_init")  # no recurrent_state_h/c
with torch.no_grad():
    sequential = policy(stored.clone())["memory"]
    with set_recurrent_mode(True):
        recurrent = policy(stored.clone())["memory"]
for name, replay in (("sequential mode", sequential), ("recurrent mode ", recurrent)):
    error = (replay - rollout_td["memory"]).abs().max().item()
    print(f"{name}: largest gap to the rollout's memory {error:.4f}")
assert torch.allclose(recurrent, rollout_td["memory"], atol=1e-6)
assert not torch.allclose(sequential, rollout_td["memory"], atol=1e-2)

# %% [markdown]
# Sequential mode read the 100 stored steps as a batch of 100 *unrelated* single steps,
# each starting from a zero state: that is the forgetful policy of the primer section
# again. Recurrent mode ran the LSTM through time and rebuilt, from positions alone, the
# memory the policy had while acting.

# %% [markdown]
# ## Does the memory remember the velocity?
#
# The policy never saw ω. If its hidden state carries information about it, a simple
# **linear probe** (a ridge regression from the hidden state to ω) fitted on one episode
# should predict ω on another. A probe given the position alone cannot: the same angle
# happens at any speed. This holds even for our *untrained*, randomly initialised LSTM:
# seeing successive positions is enough to encode a difference.

# %%
def probe_features(env, policy, seed):
    env.set_seed(seed)
    with torch.no_grad():
        td = env.rollout(100, policy, break_when_any_done=False)
    ones = torch.ones(100, 1)
    position = torch.cat([td["position"], ones], -1)
    state = [td["next", k].flatten(1) for k in ("recurrent_state_h", "recurrent_state_c")]
    return position, torch.cat([position, *state], -1), td["observation"][:, 2]


# %%
def fit_probes(env, policy):
    """Fit on episode 0, predict episode 1; return ω and both predictions with their R²."""
    *train, y_train = probe_features(env, policy, seed=0)
    *test, y_test = probe_features(env, policy, seed=1)
    out = {"true ω": (y_test, None)}
    for name, x_train, x_test in zip(("position only", "position + memory"), train, test):
        x, y = x_train.double(), y_train.double()[:, None]  # ridge: stable, reproducible
        weights = torch.linalg.solve(x.T @ x + 1e-3 * torch.eye(x.shape[1]), x.T @ y)
        guess = (x_test.double() @ weights).squeeze(-1).float()
        r2 = 1 - ((guess - y_test) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()
        out[name] = (guess, r2.item())
    return out


# %%
def plot_probes(probes, title=""):
    fig, ax = make_picture(figsize=(9, 3))
    styles = [("k", "-"), (PALETTE[1], "--"), (PALETTE[0], "-.")]  # colour and line style
    for (name, (values, r2)), (colour, ls) in zip(probes.items(), styles):
        label = name if r2 is None else f"{name}\n(R² = {r2:.2f})"
        ax.plot(values, color=colour, ls=ls, lw=1.4, label=label)
    ax.set(xlabel="step", ylabel="angular velocity ω", title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)  # beside, not on, ω
    return fig


# %%
probes = fit_probes(env, policy)
assert probes["position + memory"][1] > 0.8 > probes["position only"][1]
plot_probes(probes, "A linear probe reads the hidden velocity from the LSTM's state")

# %% [markdown]
# The dashed line (position only) is nearly flat: no linear function of the angle
# predicts the speed. The blue dash-dotted line (position + memory) follows the true
# velocity closely, except at the start: the memory starts at zero at every episode start
# (`is_init`), and after one position it has seen no motion yet, so at step 0 the probe
# can only guess. Its error
# there is about ten times its typical error from step 10 on, where it has seen the
# angle change for a while.
#
# What holds beyond this picture (`tests/test_lesson_claims.py` checks it): for network
# initialisations 0-9, on these two episodes, the memory probe scores R² above 0.9 and
# the position probe at most 0.05. Other pairs of episodes are another matter: fitted on
# episode s and tested on episode s + 1 (s = 0-9), the position probe scores at most 0.05
# every time, while the memory probe scores above 0.7 on half the pairs and below zero on
# others. One 100-step episode shows the probe only some of the swings, and a linear map
# fitted on it does not carry over to every other episode: the memory holds what the
# position lacks, but reading it out takes more varied data than one episode.
#
# ## Play: memory size and the primer
#
# Move the slider to change the LSTM's hidden size, and untick **primer** to see what
# the forgetful policy's state knows. (Each change builds a fresh environment and
# policy, seeded, then refits both probes.) Predict first: what R² do you expect without
# the primer? With `hidden_size=2`?

# %%
def plot_memory_probe(hidden_size=16, primer=True):
    torch.manual_seed(0)
    lstm = LSTMModule(input_size=2, hidden_size=hidden_size, in_key="position", out_key="memory")
    head = TensorDictModule(nn.Linear(hidden_size, 1), in_keys=["memory"], out_keys=["action"])
    env = make_pomdp_env()
    if primer:
        env.append_transform(lstm.make_tensordict_primer())
    probes = fit_probes(env, TensorDictSequential(lstm, head))
    return plot_probes(probes, f"hidden_size={hidden_size}, primer={primer}")


# %%
rltutor.interact_figure(plot_memory_probe,
                        hidden_size=widgets.IntSlider(value=16, min=2, max=64, step=2),
                        primer=widgets.Checkbox(value=True))

# %% [markdown]
# ## Exercise 1: a GRU policy that remembers
#
# `GRUModule` is built like `LSTMModule` (same `input_size`, `hidden_size`, `in_key`,
# `out_key`) but has a single state tensor, `recurrent_state`. Build:
#
# - `gru_env`: `make_pomdp_env()` with the GRU's primer appended;
# - `gru_policy`: a `TensorDictSequential` of a `GRUModule` reading `position` and a head
#   writing `action`.
#
# The check rolls your policy out and verifies that the state is carried from step to step.

# %%
# from torchrl.modules import GRUModule   <- uncomment, then build your answer
gru_env = None  # TODO: make_pomdp_env() plus the GRU's primer
gru_policy = None  # TODO: TensorDictSequential(GRUModule(...), head)

# %%
ex.check_gru_policy(gru_policy, gru_env)

# %% [markdown]
# ## Exercise 2: two episodes side by side
#
# A buffer holds episodes one after another. Below, a second episode (seed 1, 60 steps)
# is stored after `rollout_td`, keeping only `position` and `is_init`: 160 steps, with
# `is_init` True at step 0 and at step 100. Training a recurrent policy does not replay
# one long sequence: it replays a **batch of sequences side by side**, `[episodes, time]`,
# each row starting at an episode start, the short ones padded (lesson 10's sequence
# sampler serves such batches).
#
# - `side_by_side`: `two_episodes` as a `[2, 100]` TensorDict, one episode per row, with
#   a boolean `"mask"` entry that is True on real steps and False on padding.
#   `split_trajectories` (from `torchrl.collectors.utils`) builds it, given a key holding
#   one integer id per step, the same for all steps of an episode: make those ids from
#   `is_init`.
# - `replayed_memory`: the LSTM's `memory` for `side_by_side`, in **one call** of `policy`.
#
# Predict first: what shape is `replayed_memory`, and what does it hold on padded steps?
# The check steps the policy through each episode and compares the real steps.

# %%
env.set_seed(1)
with torch.no_grad():
    second_td = env.rollout(60, policy)
two_episodes = torch.cat([rollout_td, second_td]).select("position", "is_init")
print("is_init at steps:", two_episodes["is_init"].squeeze(-1).nonzero().flatten().tolist())

# %%
side_by_side = None  # TODO: [2, 100], one episode per row, with a "mask" entry
replayed_memory = None  # TODO: one call of policy on side_by_side

# %%
ex.check_side_by_side(side_by_side, replayed_memory, two_episodes, policy)

# %% [markdown]
# ## Recap
#
# - A recurrent module reads its state from the TensorDict (`recurrent_state_*`) and
#   writes the next one under `next`; `is_init` (from `InitTracker`) resets it.
# - Without `env.append_transform(module.make_tensordict_primer())` the environment drops
#   the state between steps: no error, just a policy without memory.
#   `rltutor.check_policy(policy, env)` catches it. (TorchRL's collectors can append the
#   primer and `InitTracker` for you: `auto_register_policy_transforms=True`, lesson 08.)
# - `set_recurrent_mode(True)` runs the module over whole sequences (time = last batch
#   dim): from the observations and `is_init` alone it rebuilds the memory the policy had
#   while stepping, resetting it at every episode start. Sequential mode on the same
#   stored steps treats them as unrelated single steps, each from a zero state.
# - Even an untrained LSTM's state carries the velocity the observation hides.
#
# **Next:** [07 · Composite actions](07_composite_actions.ipynb): one action with a
# discrete and a continuous part.
