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
# - what each exploration type (DETERMINISTIC, RANDOM, MODE, MEAN) does, and where it fails;
# - what an actor does when no type is set: its `default_interaction_type`.

# %%
from contextlib import nullcontext

import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torch.distributions import Normal
from torchrl.envs import GymEnv
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MLP, OneHotCategorical, ProbabilisticActor, TanhNormal

import rltutor
from rltutor.exercises import lesson03 as ex
from rltutor.plots import PALETTE, make_picture

# %%
torch.manual_seed(0)
env = GymEnv("Pendulum-v1")
env.set_seed(0)  # GymEnv + set_seed, as in lesson 01 (rltutor.make_env does both)
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
fig, (left, right) = make_picture(1, 2, figsize=(10, 3), width_ratios=(3, 1), sharey=True)
left.fill_between(range(200), *band, color=PALETTE[0], alpha=0.2,
                  label="5-95 % of the distribution")
left.plot(suggested, "k--", lw=1.2, label="suggested (deterministic)")
left.plot(sampled, ".", color=PALETTE[3], ms=4, label="sampled")
left.set(xlabel="step", ylabel="torque")
left.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), ncol=3, frameon=False)
right.hist(sampled, bins=20, orientation="horizontal", color=PALETTE[3])
right.set(xlabel="count of sampled torques")
fig

# %% [markdown]
# The samples do not jitter *around* the suggestion. The cell below prints both ranges:
# the samples reach almost all of [-2, 2], while the suggestion moves within a range less
# than half as wide. The untrained network's `scale` (printed too) is near 1 before the
# tanh, as wide as the tanh's whole working range, so the 90 % band spans more than three
# quarters of [-2, 2] at every step. Exploration this wide is typical at the start of
# training; learning shrinks the scale.

# %%
print(f"suggested: {suggested.min():+.2f} to {suggested.max():+.2f} | sampled: "
      f"{sampled.min():+.2f} to {sampled.max():+.2f} | scale: {scale.min():.2f} to "
      f"{scale.max():.2f} | narrowest band: {(band[1] - band[0]).min():.2f} of 4")
assert sampled.min() < -1.9 and sampled.max() > 1.9
assert sampled.max() - sampled.min() > 2 * (suggested.max() - suggested.min())
assert (band[1] - band[0]).min() > 3

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
fig, ax = make_picture(figsize=(7, 2.8))
bins = torch.linspace(-5, 5, 81)
ax.hist(normal_actions, bins=bins, color=PALETTE[1], alpha=0.7, label="Normal")
ax.hist(tanh_actions, bins=bins, color=PALETTE[0], histtype="step", lw=1.8,  # an outline
        label="TanhNormal")
for bound in (-2, 2):
    ax.axvline(bound, color="k", linestyle="--", linewidth=1)
ax.set_xlabel("sampled torque")
ax.set_ylabel("count")
ax.legend()
fig

# %% [markdown]
# The environment would clip the escaped Normal samples, and a training algorithm would
# then score an action that was never executed. `TanhNormal` keeps what you sample and what
# happens the same. Notice also where its samples go: what the Normal spreads out beyond
# ±2, the tanh squeezes into the last stretch before each bound.
#
# ## Exercise 1: two actions, two different ranges
#
# A toy car needs two numbers per step: **steering** in [-1, 1] and **throttle** in
# [0, 1] (it cannot reverse). Its `observation` holds 5 numbers. Build `car_actor`: a
# `ProbabilisticActor` that carries the car's action spec, samples actions that hold both
# numbers and never leave their ranges, and writes `action_log_prob`. Two things differ
# from Pendulum: how many numbers the backbone must produce, and the bounds, which are not
# the same for both actions. Start from the spec: `torchrl.data.Bounded` also accepts
# tensors for `low` and `high`.

# %%
car_actor = None  # TODO: a spec for the car, a backbone, then ProbabilisticActor(...)

# %%
ex.check_car_actor(car_actor)

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
# ## Exercise 2: the keys are the distribution's arguments
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
# | none set | what the actor's `default_interaction_type` says (more below) |
# | `RANDOM` | a fresh sample from the distribution |
# | `DETERMINISTIC` | the distribution's designated "best guess" (its `deterministic_sample`) |
# | `MODE` | the most likely action, if the distribution has a formula for it |
# | `MEAN` | the average action, if there is a formula — otherwise an estimate |
#
# (`MEDIAN` is in the enum too; neither distribution here implements it.) Two calls can
# agree by luck, the categorical has only two actions to draw from, so the cell below calls
# each actor 100 times on the same input under each type and counts the different actions.
# `obs` is the step of our rollout where the network suggests its strongest push (the
# `MEAN` part below says why). Which rows change from call to call?

# %%
def act(policy, td, exploration_type=None):
    if exploration_type is None:  # no context at all: the actor's own default decides
        context = nullcontext()
    else:
        context = set_exploration_type(exploration_type)
    with context, torch.no_grad():
        return policy(td.clone())["action"]


# %%
def hundred_calls(policy, td, exploration_type):
    try:
        actions = torch.stack([act(policy, td, exploration_type) for _ in range(100)])
    except Exception as error:  # some distributions have no formula for some types
        return f"raises {type(error).__name__}"
    if actions.isnan().any():
        return "nan"
    different = actions.unique(dim=0).shape[0]
    return "the same each time" if different == 1 else f"{different} different"


# %%
obs = rollout_td[int(suggested.abs().argmax())].select("observation")
cart_obs = cartpole.reset()
print(f"{'100 calls':15}{'TanhNormal':22}categorical")
for t in [None, ExplorationType.RANDOM, ExplorationType.DETERMINISTIC, ExplorationType.MODE,
          ExplorationType.MEAN]:
    row = [hundred_calls(actor, obs, t), hundred_calls(cartpole_actor, cart_obs, t)]
    print(f"{'(none set)' if t is None else t.name:15}{row[0]:22}{row[1]}")

# %% [markdown]
# ## Exercise 3: and for a plain `Normal`?
#
# The table covers the `TanhNormal` actor and the categorical one. `normal_actor`, the
# `Normal` twin built on the same backbone earlier, is not in it. Set `random_modes` to
# the **set** of exploration types under which `normal_actor` gives different actions for
# the same observation `obs`. Write it like `{ExplorationType.MODE, ExplorationType.MEDIAN}`
# (that shows the format; it is not the answer). Predict first, then test your prediction:
# `hundred_calls` from the cell above works on any actor.

# %%
random_modes = None  # TODO: a set of ExplorationType members

# %%
ex.check_normal_random_modes(random_modes)

# %% [markdown]
# ## What each row says, at the pinned versions
#
# - **None set**: a `ProbabilisticActor` uses its `default_interaction_type`, which is
#   DETERMINISTIC unless you pass another one. `env.rollout` sets nothing, so a rollout
#   with this actor never explores unless you ask for `RANDOM`, as our first rollout did.
# - **`DETERMINISTIC`**: for `TanhNormal`, the Gaussian's `loc` pushed through the squash
#   (`tanh`, then rescaled to the bounds); for `OneHotCategorical`, the most likely choice.
# - **`RANDOM`**: one sample per call: 100 different torques, and both of CartPole's pushes.
# - **`MODE`**: `TanhNormal` has no formula for its mode and raises a `RuntimeError` telling you
#   to use DETERMINISTIC (the cell after this list shows it failing); the categorical
#   returns its most likely choice.
# - **`MEAN`**: `TanhNormal` has no formula for its mean either, so TorchRL *estimates* it as the
#   average of 1,000 fresh samples: a value that wobbles a little from call to call, and that
#   is not the same as DETERMINISTIC (the mean of a squashed Gaussian is not the squash of its
#   mean: the tanh flattens the tails, which pulls the mean towards 0). The gap grows with
#   the push, which is why `obs` is the step with the strongest one. For a categorical, the
#   "mean" of a one-hot choice is not an action at all: you get `nan`.
#
# Lesson 04 puts these rows beside the exploration modules (epsilon-greedy, Gaussian and
# OU noise) in one table, and says who sets the type: `env.rollout`, collectors, and
# `rltutor.evaluate`. The checks below pin this lesson's half, so it fails in CI if a new
# TorchRL changes them. First MODE on the TanhNormal actor. `rltutor.expect_error` runs a
# line that must fail and prints the error line and rltutor's hint, not a traceback:

# %%
with rltutor.expect_error(RuntimeError):
    act(actor, obs, ExplorationType.MODE)

# %%
obs_td = backbone(obs.clone())
squashed_loc = spec.space.high * torch.tanh(obs_td["loc"])  # bounds are symmetric: [-2, 2]
assert torch.allclose(act(actor, obs, ExplorationType.DETERMINISTIC), squashed_loc, atol=1e-5)
assert torch.equal(act(actor, obs), act(actor, obs, ExplorationType.DETERMINISTIC))
assert act(cartpole_actor, cart_obs, ExplorationType.MEAN).isnan().all()
with torch.no_grad():
    plain_td = env.rollout(20, actor)  # no exploration type set: the actor's default
greedy = act(actor, plain_td.select("observation"), ExplorationType.DETERMINISTIC)
print("default:", actor.default_interaction_type.name, "| env.rollout's actions are the "
      "deterministic ones:", torch.allclose(plain_td["action"], greedy, atol=1e-6))
assert torch.allclose(plain_td["action"], greedy, atol=1e-6)

# %% [markdown]
# The default is yours to choose. Pass `default_interaction_type=ExplorationType.RANDOM`
# and the same actor samples when nobody sets a type; a context still wins over the
# default.

# %%
sampling_actor = ProbabilisticActor(
    backbone, in_keys=["loc", "scale"], spec=spec, distribution_class=TanhNormal,
    distribution_kwargs={"low": spec.space.low, "high": spec.space.high},
    default_interaction_type=ExplorationType.RANDOM,
)
print("none set:          ", hundred_calls(sampling_actor, obs, None))
print("DETERMINISTIC set: ", hundred_calls(sampling_actor, obs, ExplorationType.DETERMINISTIC))

# %% [markdown]
# Now MEAN against DETERMINISTIC at `obs`. One estimate proves little, as it wobbles; the
# average of 400 estimates settles on the distribution's mean, which the last line
# computes from a million samples at once.

# %%
estimates = torch.stack([act(actor, obs, ExplorationType.MEAN) for _ in range(400)]).flatten()
with torch.no_grad():
    true_mean = actor.get_dist(backbone(obs.clone())).sample((1_000_000,)).mean()
spread = estimates.std() / 20  # the standard error of an average of 400 estimates
print(f"DETERMINISTIC {squashed_loc.item():+.3f} | two MEAN estimates {estimates[0]:+.3f}, "
      f"{estimates[1]:+.3f} (one estimate wobbles by ±{estimates.std():.3f})")
print(f"average of 400 MEAN estimates {estimates.mean():+.3f} ± {spread:.3f} | "
      f"distribution's mean {true_mean:+.3f}")
gap = (estimates.mean() - squashed_loc).abs()
assert (estimates.mean() - true_mean).abs() < 4 * spread and gap > 4 * spread
assert true_mean.abs() < squashed_loc.abs() and true_mean * squashed_loc > 0

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
# - An action spec can hold several actions with bounds of their own (`Bounded` with
#   tensors for `low` and `high`); the backbone then writes a `loc` and a `scale` per action.
# - `set_exploration_type` picks how an action is drawn: `RANDOM` samples; `DETERMINISTIC`
#   always works; `MODE` and `MEAN` depend on what the distribution can compute
#   (TanhNormal: MODE raises, MEAN is a sampled estimate). With no type set, the actor's
#   `default_interaction_type` decides (DETERMINISTIC unless you pass another), and
#   `env.rollout` sets none. Lesson 04 lays out the whole contract, exploration modules
#   included.
#
# `rltutor.make_gaussian_actor(env, bounded=True)` and `rltutor.make_categorical_actor(env)`
# build these two actors in one call.
#
# **Next:** lesson 04 takes a *deterministic* policy and makes it explore with exploration
# modules: epsilon-greedy, Gaussian noise and Ornstein-Uhlenbeck noise.
