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
# # Lesson 07 — Composite actions: one action, several parts
#
# Real controls often mix kinds: *which* gear and *how much* throttle, *which* tool and
# *where* to apply it. The action is then not one tensor but a small tree of them. In
# TorchRL such an action is a `Composite` spec, and a probabilistic policy samples each
# part from its own distribution, grouped by `CompositeDistribution`.
#
# **What you will learn**
# - read a composite action spec: a discrete part and a continuous part
# - build one network with a head per part, writing the parameters as a nested TensorDict
# - put `CompositeDistribution` (from `tensordict.nn`) in a `ProbabilisticActor`
# - find each part's log-probability in the rollout, and how they add up

# %%
import ipywidgets as widgets
import torch
from tensordict.nn import CompositeDistribution, NormalParamExtractor
from tensordict.nn import TensorDictModule, TensorDictSequential, set_composite_lp_aggregate
from torch import distributions as d
from torch import nn
from torchrl.envs import ExplorationType, set_exploration_type
from torchrl.modules import MLP, ProbabilisticActor, TanhNormal

import rltutor
from rltutor.addons.toy_envs import PuckEnv, plot_puck
from rltutor.exercises import lesson07 as ex

_ = torch.manual_seed(0)

# %% [markdown]
# ## An environment with a two-part action
#
# None of gymnasium's classic tasks has such an action, so rltutor ships a tiny one:
# `PuckEnv`. A puck sits on a line between -1 and 1 and must come to rest on a target.
# Each step you choose a **direction** (0 = push left, 1 = push right) and a **force**
# between 0 and 1. The reward is minus the distance to the target, minus a little for
# the effort. The observation is `[position, velocity, target]`.

# %%
env = PuckEnv(max_steps=50, seed=0)
for key, spec in env.full_action_spec.items(include_nested=True, leaves_only=True):
    print(f"{key!s:24} {type(spec).__name__:18} shape={tuple(spec.shape)} dtype={spec.dtype}")

# %% [markdown]
# The action spec is a `Composite` holding another `Composite` under `"action"`, whose
# leaves are a `Categorical` with 2 values and a `Bounded` float in [0, 1] (printed as
# `BoundedContinuous`, the class `Bounded` builds for floats). So a policy
# must write two entries, `("action", "direction")` and `("action", "force")`. Random
# actions drawn from the spec show what a step expects:

# %%
rltutor.show(env.rand_step(env.reset()))

# %% [markdown]
# ## One body, one head per part
#
# The network reads the observation once (a shared body) and has a head for each part
# of the action. Each head writes the parameters of its part's distribution under
# `("params", <part name>, ...)`: logits for the direction, `loc` and `scale` for the
# force. Nesting them keeps the parameters of each part together.

# %%
body = TensorDictModule(MLP(in_features=3, out_features=32, num_cells=[32]),
                        in_keys=["observation"], out_keys=["hidden"])
direction_head = TensorDictModule(nn.Linear(32, 2), in_keys=["hidden"],
                                  out_keys=[("params", "direction", "logits")])
force_head = TensorDictModule(
    nn.Sequential(nn.Linear(32, 2), NormalParamExtractor()), in_keys=["hidden"],
    out_keys=[("params", "force", "loc"), ("params", "force", "scale")],
)
network = TensorDictSequential(body, direction_head, force_head)
rltutor.dataflow(network)

# %% [markdown]
# ## CompositeDistribution in a ProbabilisticActor
#
# `ProbabilisticActor` reads the whole `params` sub-TensorDict and hands it to
# `CompositeDistribution`, which builds one distribution per entry of `distribution_map`:
#
# - `direction`: a `Categorical` over the 2 logits;
# - `force`: a `TanhNormal` squashed into [0, 1] (its `low`/`high` go in `extra_kwargs`).
#
# `name_map` says where each sample is written: inside `"action"`, as the spec wants.

# %%
actor = ProbabilisticActor(
    network,
    in_keys=["params"],
    out_keys=[("action", "direction"), ("action", "force")],
    spec=env.full_action_spec,
    distribution_class=CompositeDistribution,
    distribution_kwargs={
        "distribution_map": {"direction": d.Categorical, "force": TanhNormal},
        "name_map": {"direction": ("action", "direction"), "force": ("action", "force")},
        "extra_kwargs": {"force": {"low": 0.0, "high": 1.0}},
    },
    return_log_prob=True,
)
actor.out_keys

# %% [markdown]
# Look at the last two out_keys: with `return_log_prob=True` the actor writes **one
# log-probability per part**, next to the sample it belongs to:
# `("action", "direction_log_prob")` and `("action", "force_log_prob")`.
#
# ## A rollout, sampled
#
# Under `ExplorationType.RANDOM` each part is sampled from its distribution.

# %%
env.set_seed(0)
with set_exploration_type(ExplorationType.RANDOM):
    rollout_td = env.rollout(50, actor)
assert ("action", "direction_log_prob") in rollout_td.keys(True)
assert ("action", "force_log_prob") in rollout_td.keys(True)
rltutor.show(rollout_td, module=actor)

# %% [markdown]
# The two parts are drawn independently, so the probability of the whole action is the
# product of the parts' probabilities: its log-probability is the **sum** of the two
# entries. The distribution itself agrees when asked for one number
# (`set_composite_lp_aggregate(True)` makes it add the parts up):

# %%
parts = rollout_td["action", "direction_log_prob"] + rollout_td["action", "force_log_prob"]
with set_composite_lp_aggregate(True), torch.no_grad():
    whole = actor.get_dist(rollout_td).log_prob(rollout_td)
same = torch.allclose(parts, whole, atol=1e-4)  # float rounding of tanh near the bounds
print("sum of parts == joint log-prob:", same)
assert same

# %% [markdown]
# Where the puck went and how it was pushed (bars up = right, down = left; bar height =
# force). An untrained policy pushes almost at random:

# %%
plot_puck(rollout_td)

# %% [markdown]
# ## Acting deterministically
#
# Without a sampling context (or under `DETERMINISTIC`) each part takes its own
# deterministic value: the most likely direction, and the squashed mean of the force.
# `MEAN` and `MODE` do **not** work on this composite: the categorical part's samples
# cannot be averaged, and `TanhNormal` has no closed-form mode. `rltutor.check_policy`
# says so before you find out the hard way:

# %%
rltutor.check_policy(actor, env, exploration_type="mean")

# %%
env.set_seed(0)
with set_exploration_type(ExplorationType.DETERMINISTIC):
    greedy_td = env.rollout(50, actor)
print("directions chosen:", greedy_td["action", "direction"].unique().tolist())
print("force min/max:", [round(x.item(), 3) for x in greedy_td["action", "force"].aminmax()])

# %% [markdown]
# ## Play: sampling vs deterministic
#
# Switch the exploration type and the seed: for every seed from 0 to 9, sampled pushes
# flicker left and right, while the deterministic policy repeats one direction for all 50
# steps. (Try to guess what a *trained* policy
# would do: push towards the target, hard at first, then gently.)

# %%
def plot_puck_rollout(exploration="random", seed=0):
    torch.manual_seed(seed)
    env.set_seed(seed)
    with set_exploration_type(ExplorationType[exploration.upper()]):
        return plot_puck(env.rollout(50, actor))


rltutor.interact_figure(
    plot_puck_rollout,
    exploration=widgets.ToggleButtons(options=["random", "deterministic"]),
    seed=widgets.IntSlider(value=0, min=0, max=9),
)

# %% [markdown]
# The explorer from lesson 01 reads composite actions too: one panel per part. This
# policy only samples, so the explorer puts no crosses on it (those mark steps where
# an exploration module replaced the action, lesson 04). Instead each panel shows the
# distribution the sample came from. On the `direction` panel, the shaded ribbon on each
# row is as tall as the probability of that choice, and the black dashes sit on the
# deterministic choice; on the `force` panel, the dashed line is the deterministic force
# and the dotted lines bound the middle 90 % of its distribution. Pick `mean` in the
# dropdown to see which part has no mean to offer.

# %%
rltutor.explorer(env, actor, controls=("exploration", "seed", "steps"), steps=100)

# %% [markdown]
# ## Exercise 1: a force that needs no squashing
#
# `TanhNormal` reaches [0, 1] by squashing a Normal and being told the bounds. A **Beta**
# distribution (`d.Beta`, from `torch.distributions`) lives on [0, 1] by itself: no
# squashing, no bounds to pass. It takes two parameters, both positive.
#
# Build `beta_actor`: an actor for `PuckEnv` whose direction is still a `Categorical` and
# whose force is drawn from a `Beta`. `CompositeDistribution` hands each part's entries
# under `("params", <part>)` to that part's distribution **by name**, so your force head
# must write the names Beta's constructor takes (`help(d.Beta)`), and keep them positive.
# Reuse `body` and `direction_head`; the force head is yours. Predict first: does the
# Beta need `extra_kwargs`? The check samples your actor 500 times from one state.

# %%
beta_actor = None  # TODO: ProbabilisticActor(..., distribution_class=CompositeDistribution)

# %%
ex.check_beta_actor(beta_actor)

# %% [markdown]
# ## Exercise 2: the road not taken
#
# How likely was the *other* push? For every step of `rollout_td`, compute
# `flipped_log_prob`: the log-probability the actor gives to the action with the
# **opposite direction and the same force** (one number per step). Two ways work: ask
# the distribution about a modified copy of the rollout, or reason from the two stored
# parts (with two directions, p(other) = 1 − p(taken)).

# %%
flipped_log_prob = None  # TODO: one value per step

# %%
ex.check_flipped_log_prob(flipped_log_prob, rollout_td, actor)

# %% [markdown]
# ## Recap
#
# - A composite action spec is a `Composite` of parts; the policy writes one entry per
#   part, nested under `"action"`.
# - One network, one head per part, parameters nested under `("params", part)`.
# - `CompositeDistribution` (in `tensordict.nn`) builds a distribution per part from
#   `distribution_map`; `name_map` says where samples go; `extra_kwargs` passes extra
#   arguments such as a `TanhNormal`'s bounds.
# - Log-probabilities are written per part: `("action", "<part>_log_prob")`. Their sum is
#   the log-probability of the whole action.
# - Use `DETERMINISTIC` (not `MEAN`/`MODE`) to act greedily with such a policy.
#
# **Next:** [08 · Batched environments and devices](08_batched_envs_and_devices.ipynb):
# the same policy on many environments, a GPU, and several machines.
