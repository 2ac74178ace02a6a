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
# What does the network *suggest* at each step? Its deterministic action: the squashed
# `loc`, computed on the same observations under `ExplorationType.DETERMINISTIC`. Beside
# it we draw the band where 90 % of the samples fall (the 5 % and 95 % points of the
# Gaussian, `loc ± 1.645 scale`, pushed through the same squash) and the samples taken.

# %%
with set_exploration_type(ExplorationType.DETERMINISTIC), torch.no_grad():
    suggested = actor(rollout_td.select("observation").clone())["action"].flatten()
sampled = rollout_td["action"].detach().flatten()
loc, scale = rollout_td["loc"].detach().flatten(), rollout_td["scale"].detach().flatten()
band = [2 * torch.tanh(loc + z * scale) for z in (-1.645, 1.645)]  # high = 2: bounds [-2, 2]

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3), width_ratios=(3, 1), sharey=True,
                                  layout="constrained")
left.fill_between(range(200), *band, color="C0", alpha=0.2, label="5-95 % of the distribution")
left.plot(suggested, "k--", lw=1.2, label="suggested (deterministic)")
left.plot(sampled, "C3.", ms=4, label="sampled")
left.set(xlabel="step", ylabel="torque")
left.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), ncol=3, frameon=False)
right.hist(sampled, bins=20, orientation="horizontal", color="C3")
right.set(xlabel="count of sampled torques")
plt.close(fig)
fig

# %% [markdown]
# The samples do not jitter *around* the suggestion: they cover the whole range [-2, 2],
# while the suggestion stays between about -0.75 and 0.4, and the histogram is fullest
# near the bounds. The untrained network's `scale` is about 1 before the tanh, as wide as
# the tanh's whole working range, so the 90 % band spans nearly all of [-2, 2] at every
# step and a full push is drawn more often than a gentle one. Exploration this wide is
# typical at the start of training; learning shrinks the scale.

# %%
near_bounds, near_zero = int((sampled.abs() > 1.5).sum()), int((sampled.abs() < 0.5).sum())
print(f"suggested: {suggested.min():.2f} to {suggested.max():.2f} | sampled torques beyond "
      f"±1.5: {near_bounds} of 200, within ±0.5: {near_zero}")
assert near_bounds > 2 * near_zero and suggested.abs().max() < 1
#
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
# ## Exercise 3 — and for a plain `Normal`?
#
# The table covers the `TanhNormal` actor and the categorical one. `normal_actor`, the
# `Normal` twin built on the same backbone earlier, is not in it. Set `random_modes` to
# the **set** of exploration types under which `normal_actor` returns two different
# actions for the same observation `obs` (e.g. `{ExplorationType.RANDOM}`). Predict
# first, then test it: `two_calls` from the cell above works on any actor.

# %%
random_modes = None  # TODO: a set of ExplorationType members

# %%
ex.check_normal_random_modes(random_modes)

# %% [markdown]
# ## What each type does, at the pinned versions
#
# - **No context**: a `ProbabilisticActor` acts *deterministically*. A rollout samples only
#   when you ask for `RANDOM`.
# - **`DETERMINISTIC`**: for `TanhNormal`, the Gaussian's `loc` pushed through the squash
#   (`tanh`, then rescaled to the bounds); for `OneHotCategorical`, the most likely choice.
# - **`RANDOM`**: one sample per call.
# - **`MODE`**: `TanhNormal` has no formula for its mode and raises a `RuntimeError` telling you
#   to use DETERMINISTIC (the cell after this list shows it failing); the categorical
#   returns its most likely choice.
# - **`MEAN`**: `TanhNormal` has no formula for its mean either, so TorchRL *estimates* it as the
#   average of 1,000 fresh samples: a value that wobbles a little from call to call, and that
#   is not the same as DETERMINISTIC (the mean of a squashed Gaussian is not the squash of its
#   mean: the tanh flattens the tails, which pulls the mean towards 0). One estimate from
#   1,000 samples wobbles by about ±0.04, about as much as that gap here, so a single
#   estimate proves little; the average of 400 estimates, below, settles on the
#   distribution's mean. For a categorical, the "mean" of a one-hot choice is not an
#   action at all: you get `nan`.
# - **`MEDIAN`** (also in the enum) has no implementation for either distribution.
#
# The checks below pin these facts, so this lesson fails in CI if a new TorchRL changes them.
# First MODE on the TanhNormal actor. `rltutor.expect_error` runs a line that must fail
# and prints the error line and rltutor's hint, not a screen of traceback:

# %%
with rltutor.expect_error(RuntimeError):
    act(actor, obs, ExplorationType.MODE)

# %%
obs_td = backbone(obs.clone())
squashed_loc = spec.space.high * torch.tanh(obs_td["loc"])  # bounds are symmetric: [-2, 2]
assert torch.allclose(act(actor, obs, ExplorationType.DETERMINISTIC), squashed_loc, atol=1e-5)
assert torch.equal(actor(obs.clone())["action"], act(actor, obs, ExplorationType.DETERMINISTIC))
assert act(cartpole_actor, cart_obs, ExplorationType.MEAN).isnan().all()

# %%
estimates = torch.stack([act(actor, obs, ExplorationType.MEAN) for _ in range(400)]).flatten()
with torch.no_grad():  # the distribution's mean, from a million samples at once
    true_mean = actor.get_dist(backbone(obs.clone())).sample((1_000_000,)).mean()
spread = estimates.std() / 20  # the standard error of an average of 400 estimates
print(f"DETERMINISTIC {squashed_loc.item():+.3f} | two MEAN estimates {estimates[0]:+.3f}, "
      f"{estimates[1]:+.3f} (spread ±{estimates.std():.3f})")
print(f"average of 400 MEAN estimates {estimates.mean():+.3f} ± {spread:.3f} | "
      f"distribution's mean {true_mean:+.3f}")
assert (estimates.mean() - true_mean).abs() < 4 * spread
assert true_mean.abs() < squashed_loc.abs() and (estimates.mean() - squashed_loc).abs() > 4 * spread

# %% [markdown]
# ## Play with it
#
# The explorer's **exploration** menu switches the type for a whole 200-step rollout. Its
# action panel draws what the first plot of this lesson drew: the action taken, the
# deterministic action (dashed) and the 5-95 % band of the distribution (dotted). Compare
# `random` with `deterministic`, and try `mode` (the error appears in the panel, not as a
# crash) and `mean`: for every seed from 0 to 9, wherever the deterministic torque is
# larger than 0.2 in size, the MEAN torque is smaller in size, pulled towards 0 as
# above, and it jitters a little from step to step, the mark of an estimate. The seed
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
#   the distribution can compute (TanhNormal: MODE raises, MEAN is a sampled estimate;
#   Normal: both have a formula).
#
# `rltutor.make_gaussian_actor(env, bounded=True)` and `rltutor.make_categorical_actor(env)`
# build these two actors in one call.
#
# **Next:** lesson 04 takes a *deterministic* policy and makes it explore with exploration
# modules: epsilon-greedy, Gaussian noise and Ornstein-Uhlenbeck noise.
