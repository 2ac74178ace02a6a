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
# # Lesson 03 — Probabilistic policies
#
# The actors of lessons 01 and 02 answer every observation with one fixed action. Most
# training algorithms want more: a *distribution* over actions, to sample from while
# exploring and to score actions with (their log-probability). In TorchRL this is a
# `ProbabilisticActor`: a network writes the distribution's parameters into the TensorDict,
# and a second step builds the distribution and draws the action.
#
# **What you will learn**
#
# - how a backbone and `NormalParamExtractor` produce `loc` and `scale`;
# - how `ProbabilisticActor` turns them into an `action` and its `action_log_prob`;
# - why `TanhNormal`, not `Normal`, suits Pendulum's bounded torque;
# - a categorical policy for CartPole (`logits` → one-hot action);
# - what each exploration type (DETERMINISTIC, RANDOM, MODE, MEAN) does, and where it fails.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.distributions import Normal
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torchrl.envs import GymEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MLP, OneHotCategorical, ProbabilisticActor, TanhNormal

import rltutor
from rltutor.exercises import lesson03 as ex

# %%
torch.manual_seed(0)
env = GymEnv("Pendulum-v1")
env.set_seed(0)
env

# %% [markdown]
# ## From two numbers to `loc` and `scale`
#
# A Gaussian needs a mean (`loc`) and a spread (`scale`), and the spread must be positive.
# `NormalParamExtractor` takes a network's output, splits its last dimension in two halves,
# keeps the first as `loc`, and maps the second through a *biased* softplus (shifted so
# that a raw 0 becomes a scale of exactly 1, with a floor of 0.01) so that `scale > 0`.

# %%
raw = torch.tensor([[0.5, -3.0], [0.5, 0.0], [0.5, 3.0]])  # three (loc, raw scale) pairs
loc, scale = NormalParamExtractor()(raw)
print("loc  ", loc.flatten().tolist())
print("scale", [round(s, 4) for s in scale.flatten().tolist()])
assert (scale > 0).all()

# %% [markdown]
# The **backbone** is an MLP with 2 outputs (Pendulum has 1 torque: one `loc`, one `scale`)
# followed by the extractor, wrapped to read `observation` and write both keys.

# %%
backbone = TensorDictModule(
    nn.Sequential(MLP(out_features=2, num_cells=[64, 64]), NormalParamExtractor()),
    in_keys=["observation"],
    out_keys=["loc", "scale"],
)
td = env.reset()
rltutor.diff(td, backbone(td.clone()))

# %% [markdown]
# ## `ProbabilisticActor`
#
# `ProbabilisticActor` runs the backbone, feeds the keys in its `in_keys` to the
# `distribution_class` as keyword arguments, and writes the chosen action. `TanhNormal` also
# needs the bounds (`low`, `high`), which we take from the action spec. With
# `return_log_prob=True` the log-probability of the action is written too.

# %%
spec = env.action_spec
actor = ProbabilisticActor(
    backbone,
    in_keys=["loc", "scale"],
    spec=spec,
    distribution_class=TanhNormal,
    distribution_kwargs={"low": spec.space.low, "high": spec.space.high},
    return_log_prob=True,
)
rltutor.dataflow(actor)

# %% [markdown]
# To *sample* actions we run the rollout under `set_exploration_type(ExplorationType.RANDOM)`
# (more on exploration types below). Every step now carries `loc`, `scale`, the sampled
# `action` and its `action_log_prob`. (Older tutorials call that key `sample_log_prob`;
# the versions pinned here write `action_log_prob`.)

# %%
with set_exploration_type(ExplorationType.RANDOM):
    rollout_td = env.rollout(200, actor)
rltutor.show(rollout_td, module=actor)

# %%
assert "action_log_prob" in rollout_td.keys() and "sample_log_prob" not in rollout_td.keys()
# The log-prob is the distribution's own score of the action that was taken:
dist = actor.get_dist(rollout_td)
print(type(dist).__name__, "log_prob matches:",
      torch.allclose(dist.log_prob(rollout_td["action"]), rollout_td["action_log_prob"]))

# %% [markdown]
# The sampled torques jitter around what the network suggests; the untrained network's
# scale is large, so the jitter is too.

# %%
rltutor.plot_rollout(rollout_td)

# %% [markdown]
# ## `TanhNormal` vs `Normal`: respecting the bounds
#
# A Gaussian has infinite tails: with `Normal`, some samples land outside [-2, 2].
# `TanhNormal` samples the same Gaussian, then squashes it with `tanh` and rescales it into
# `[low, high]`, so no sample can escape. Let's build a `Normal` twin of our actor on the
# **same** backbone and draw 10,000 actions from each for one observation.

# %%
normal_actor = ProbabilisticActor(
    backbone, in_keys=["loc", "scale"], spec=spec, distribution_class=Normal,
    return_log_prob=True,
)
many = env.reset().expand(10_000).clone()  # one observation, 10,000 times
with set_exploration_type(ExplorationType.RANDOM), torch.no_grad():
    tanh_actions = actor(many.clone())["action"].flatten()
    normal_actions = normal_actor(many.clone())["action"].flatten()
for name, a in [("TanhNormal", tanh_actions), ("Normal", normal_actions)]:
    print(f"{name:10}: {int((a.abs() > 2).sum()):5d} of 10000 outside [-2, 2]")
assert (tanh_actions.abs() <= 2).all() and (normal_actions.abs() > 2).any()

# %%
fig, ax = plt.subplots(figsize=(7, 2.8))
bins = torch.linspace(-5, 5, 81)
ax.hist(normal_actions, bins=bins, alpha=0.6, label="Normal")
ax.hist(tanh_actions, bins=bins, alpha=0.6, label="TanhNormal")
for bound in (-2, 2):
    ax.axvline(bound, color="k", linestyle="--", linewidth=1)
ax.set_xlabel("sampled torque")
ax.set_ylabel("count")
ax.legend()
plt.close(fig)
fig

# %% [markdown]
# The environment would clip the escaped Normal samples, and a training algorithm would
# then score an action that was never executed. `TanhNormal` keeps what you sample and what
# happens the same. Notice also where its samples go: squashing a wide Gaussian piles its
# tails up just inside the bounds.
#
# ## Exercise 1 — a gentler controller
#
# The bounds of a `TanhNormal` are yours to choose. Build `gentle_actor`: a
# `ProbabilisticActor` for Pendulum whose sampled torques stay within **[-1, 1]** (half the
# motor's strength) and which writes `action_log_prob`. Use a backbone of your own.

# %%
gentle_actor = None  # TODO: ProbabilisticActor(your_backbone, in_keys=[...], ...)

# %%
ex.check_gentle_actor(gentle_actor)

# %% [markdown]
# ## A categorical policy for CartPole
#
# CartPole's action is a choice: push left or push right. Its action spec is **one-hot**
# (a vector of 2 with a single 1). The backbone writes `logits` (one score per choice) and a
# `OneHotCategorical` distribution samples a one-hot action from them.

# %%
cartpole = GymEnv("CartPole-v1")
cartpole.set_seed(0)
print(type(cartpole.action_spec).__name__, tuple(cartpole.action_spec.shape))
logits_net = TensorDictModule(
    MLP(out_features=2, num_cells=[32]), in_keys=["observation"], out_keys=["logits"]
)
cartpole_actor = ProbabilisticActor(
    logits_net, in_keys=["logits"], spec=cartpole.action_spec,
    distribution_class=OneHotCategorical, return_log_prob=True,
)
with set_exploration_type(ExplorationType.RANDOM):
    cartpole_td = cartpole.rollout(500, cartpole_actor)
rltutor.show(cartpole_td, module=cartpole_actor)

# %% [markdown]
# Unlike Pendulum, CartPole ends by itself: the pole falls, `terminated` turns true and the
# rollout stops there, long before 500 steps.

# %%
print("steps:", cartpole_td.batch_size[0], "| terminated at the end:",
      bool(cartpole_td["next", "terminated"][-1]), "| truncated:",
      bool(cartpole_td["next", "truncated"].any()))
print("first actions:", cartpole_td["action"][:4].tolist())

# %% [markdown]
# ## Exercise 2 — the keys are the distribution's arguments
#
# `ProbabilisticActor` hands each of its `in_keys` to the distribution as a keyword argument:
# `in_keys=["logits"]` means `OneHotCategorical(logits=...)`. That distribution also accepts
# `probs=` (probabilities that sum to 1). Build `probs_actor`: a CartPole actor whose
# backbone writes `probs` instead of `logits` (hint: `nn.Softmax(dim=-1)`), and which writes
# `action_log_prob`.

# %%
probs_actor = None  # TODO: ProbabilisticActor(..., in_keys=["probs"], ...)

# %%
ex.check_probs_actor(probs_actor)

# %% [markdown]
# ## Exploration types
#
# A probabilistic actor can turn its distribution into an action in several ways. The
# global setting `set_exploration_type(...)` chooses which:
#
# | type | the action is |
# |---|---|
# | `RANDOM` | a fresh sample from the distribution |
# | `DETERMINISTIC` | the distribution's designated "best guess" (its `deterministic_sample`) |
# | `MODE` | the most likely action, if the distribution has a formula for it |
# | `MEAN` | the average action, if there is a formula — otherwise an estimate |
# | `MEDIAN` | the median action, if the distribution implements it (neither does here) |
#
# The cell below calls each actor twice on the same input under each type, plus once with
# no context at all. Read the table carefully: which rows change between the two calls?

# %%
def act(policy, td, exploration_type):
    with set_exploration_type(exploration_type), torch.no_grad():
        return policy(td.clone())["action"]


def two_calls(policy, td, exploration_type):
    try:
        calls = [act(policy, td, exploration_type).reshape(-1).tolist() for _ in range(2)]
    except Exception as error:  # some distributions have no formula for some types
        return f"raises {type(error).__name__}"
    return "  ".join(f"{str([round(v, 3) for v in c]):9}" for c in calls)


# %%
obs, cart_obs = env.reset(), cartpole.reset()
print(f"{'':14}{'TanhNormal (2 calls)':28}categorical (2 calls)")
for t in [ExplorationType.DETERMINISTIC, ExplorationType.RANDOM, ExplorationType.MODE,
          ExplorationType.MEAN, ExplorationType.MEDIAN]:
    print(f"{t.name:14}{two_calls(actor, obs, t):28}{two_calls(cartpole_actor, cart_obs, t)}")
with torch.no_grad():
    print(f"{'(no context)':14}{[round(v, 3) for v in actor(obs.clone())['action'].tolist()]}")

# %% [markdown]
# ## Exercise 3 — which types give a different action each call?
#
# Set `random_modes` to the **set** of exploration types under which the TanhNormal actor
# returned two different actions for the same observation (e.g. `{ExplorationType.RANDOM}`).

# %%
random_modes = None  # TODO: a set of ExplorationType members

# %%
ex.check_random_modes(random_modes)

# %% [markdown]
# ## What each type does, at the pinned versions
#
# - **No context**: a `ProbabilisticActor` acts *deterministically*. A rollout samples only
#   when you ask for `RANDOM`.
# - **`DETERMINISTIC`**: for `TanhNormal`, the Gaussian's `loc` pushed through the squash
#   (`tanh`, then rescaled to the bounds); for `OneHotCategorical`, the most likely choice.
# - **`RANDOM`**: one sample per call.
# - **`MODE`**: `TanhNormal` has no formula for its mode and raises a `RuntimeError` telling you
#   to use DETERMINISTIC; the categorical returns its most likely choice.
# - **`MEAN`**: `TanhNormal` has no formula for its mean either, so TorchRL *estimates* it as the
#   average of 1,000 fresh samples: a value that wobbles a little from call to call, and that
#   is not the same as DETERMINISTIC (the mean of a squashed Gaussian is not the squash of its
#   mean). With 1,000 samples the estimate wobbles by about ±0.04, more than its gap to
#   DETERMINISTIC here, so one estimate can land on either side. For a categorical, the
#   "mean" of a one-hot choice is not an action at all: you get `nan`.
# - **`MEDIAN`** (also in the enum) has no implementation for either distribution.
#
# The checks below pin these facts, so this lesson fails in CI if a new TorchRL changes them.

# %%
obs_td = backbone(obs.clone())
squashed_loc = spec.space.high * torch.tanh(obs_td["loc"])  # bounds are symmetric: [-2, 2]
assert torch.allclose(act(actor, obs, ExplorationType.DETERMINISTIC), squashed_loc, atol=1e-5)
assert torch.equal(actor(obs.clone())["action"], act(actor, obs, ExplorationType.DETERMINISTIC))
mean_1, mean_2 = (act(actor, obs, ExplorationType.MEAN) for _ in range(2))
assert not torch.equal(mean_1, mean_2) and (mean_1 - mean_2).abs().item() < 0.2
assert act(cartpole_actor, cart_obs, ExplorationType.MEAN).isnan().all()
print("DETERMINISTIC =", squashed_loc.item(), "| two MEAN estimates:", mean_1.item(), mean_2.item())

# %% [markdown]
# ## Play with it
#
# The explorer's **exploration** menu switches the type for a whole 200-step rollout. Compare
# `random` with `deterministic`, and try `mode` (the error appears in the panel, not as a
# crash) and `mean`: its torque follows the deterministic one with a slight jitter, the mark
# of an estimate from samples of a squashed Gaussian. The seed
# changes the starting angle and the samples.

# %%
rltutor.explorer(env, actor, controls=("exploration", "seed"))

# %% [markdown]
# ## Recap
#
# - A probabilistic policy = a **backbone** that writes distribution parameters
#   (`loc`/`scale` via `NormalParamExtractor`, or `logits`) + a `ProbabilisticActor` that
#   builds the distribution and writes `action` (and `action_log_prob` with
#   `return_log_prob=True`).
# - `TanhNormal` with the spec's `low`/`high` keeps every sample inside the bounds; `Normal`
#   does not.
# - One-hot action specs (CartPole) pair with `OneHotCategorical` over `logits`.
# - `set_exploration_type` picks how an action is drawn: `RANDOM` samples; `DETERMINISTIC`
#   always works and is the default outside any context; `MODE` and `MEAN` depend on what
#   the distribution can compute (TanhNormal: MODE raises, MEAN is a sampled estimate).
#
# `rltutor.make_gaussian_actor(env, bounded=True)` and `rltutor.make_categorical_actor(env)`
# build these two actors in one call.
#
# **Next:** lesson 04 takes a *deterministic* policy and makes it explore with exploration
# modules: epsilon-greedy, Gaussian noise and Ornstein-Uhlenbeck noise.
