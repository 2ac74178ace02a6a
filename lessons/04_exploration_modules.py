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
# # Lesson 04 — Exploration modules: teaching a deterministic policy to explore
#
# A deterministic policy always picks the same action for the same observation. That is
# what you want when you *use* a policy, and exactly what you don't want while you
# *collect data* to improve it: it never tries anything new. TorchRL's answer is a small
# module placed **after** the policy that rewrites its `action`.
#
# **What you will learn**
# - how `EGreedyModule` sits after a policy in a `TensorDictSequential` and replaces some
#   actions by random ones, and how its epsilon anneals with `.step()`
# - where those random actions come from: the environment's **action spec**, and why every
#   exploration module needs it
# - `AdditiveGaussianModule` (fresh noise each step) versus `OrnsteinUhlenbeckProcessModule`
#   (noise that wanders), and why OU wants an `InitTracker`
# - how `set_exploration_type(ExplorationType.DETERMINISTIC)` switches all of them off
# - the exploration-type contract in one table: what TanhNormal, Normal and categorical
#   actors and the three exploration modules do under each type (and under none), and
#   who sets the type: `env.rollout`, a collector, `rltutor.evaluate`

# %%
import warnings

import numpy as np
import torch
from tensordict.nn import TensorDictSequential
from torchrl.collectors import Collector
from torchrl.envs import Compose, InitTracker, StepCounter, TransformedEnv
from torchrl.envs.utils import ExplorationType, exploration_type, set_exploration_type
from torchrl.modules import AdditiveGaussianModule, EGreedyModule, OrnsteinUhlenbeckProcessModule

import rltutor
from rltutor.contract import exploration_table, table_to_text
from rltutor.exercises import lesson04 as ex
from rltutor.plots import PALETTE, ROLES, make_picture

# %%
# rltutor.make_env is lesson 01's GymEnv(...) + env.set_seed(0) in one call: seeded where
# it is made, so every run prints the same numbers
env = rltutor.make_env("Pendulum-v1", seed=0)
policy = rltutor.make_actor(env, num_cells=(32,), seed=0)  # the Actor of lesson 02
rltutor.dataflow(policy)

# %% [markdown]
# ## 1. ε-greedy: sometimes ignore the policy
#
# `EGreedyModule` reads `action` and writes `action`. At each call it flips a biased coin:
# with probability `eps` the action is thrown away and replaced by a random one. Chain it
# after the policy with `TensorDictSequential`; the policy itself is untouched.

# %%
egreedy = EGreedyModule(spec=env.action_spec, eps_init=0.3, eps_end=0.3)
explorative = TensorDictSequential(policy, egreedy)
rltutor.dataflow(explorative)

# %% [markdown]
# Roll it out for 200 steps with exploration on (`"random"`), then ask the plain `policy`
# what it would have done on the very same observations. Where the two differ, ε-greedy
# stepped in. (`isclose`, not `!=`: a batch of 200 observations at once can round the
# last bit differently from 200 single steps.)

# %%
rollout_td = rltutor.rollout(env, explorative, steps=200, exploration="random", seed=0)
with torch.no_grad():
    clean = policy(rollout_td.select("observation").clone())["action"]
replaced = ~torch.isclose(rollout_td["action"], clean, atol=1e-5).squeeze(-1)
print(f"replaced {int(replaced.sum())} of {len(replaced)} actions "
      f"({replaced.float().mean():.0%}; eps = {float(egreedy.eps):.2f})")
assert 0.2 < replaced.float().mean() < 0.4

# %% [markdown]
# In the plot, the crosses mark the replaced steps: the action jumps to a random value
# anywhere in Pendulum's range [-2, 2], then comes back to the policy's smooth curve.

# %%
rltutor.plot_rollout(rollout_td, env=env, explored=replaced, greedy_action=clean,
                     title="Pendulum, ε-greedy with eps = 0.3")

# %% [markdown]
# ## 2. Where random actions come from: the action spec
#
# `EGreedyModule` never invents an action itself. It asks the **action spec**, the object
# that describes which actions are legal. `spec.rand()` draws one uniformly from that
# space. Pendulum's spec is a box [-2, 2]; CartPole's is a one-hot choice of 2.

# %%
torch.manual_seed(0)
print("Pendulum:", env.action_spec.rand(), "bounds", env.action_spec.space.low,
      env.action_spec.space.high)
cartpole = rltutor.make_env("CartPole-v1", seed=0)
print("CartPole:", cartpole.action_spec.rand(), "one-hot over", cartpole.action_spec.space.n)
print("project(5.0) ->", env.action_spec.project(torch.tensor([5.0])))

# %% [markdown]
# That is why the exploration modules take `spec=`: to draw random actions of the right
# shape and kind (a number in a box, a one-hot vector…), and to clip noisy actions back
# into bounds with `spec.project`. Without a spec, each module fails in its own way: read
# the three messages. (`rltutor.expect_error` runs a line that must fail and prints the
# error line, plus rltutor's hint when it knows the mistake, instead of a traceback.)

# %%
no_spec = TensorDictSequential(policy, EGreedyModule(spec=None, eps_init=0.3, eps_end=0.3))
with rltutor.expect_error(RuntimeError):
    rltutor.rollout(env, no_spec, steps=5, exploration="random", seed=0)
with rltutor.expect_error(RuntimeError):
    AdditiveGaussianModule(spec=None)(policy(env.reset()))
with rltutor.expect_error(RuntimeError):
    OrnsteinUhlenbeckProcessModule(spec=None)

# %% [markdown]
# Notice *when* each one complains: `EGreedyModule` and `AdditiveGaussianModule` accept
# `spec=None` and only fail when they first explore; `OrnsteinUhlenbeckProcessModule`
# refuses to be built.
#
# ## 3. Switching exploration off
#
# Exploration modules look at the current **exploration type** before doing anything. They
# act only under `ExplorationType.RANDOM`, *or when no type was set at all*: the default,
# outside any `set_exploration_type` block, is `None`, and then they explore. (Lesson 03's
# sampling actors do the opposite when no type is set; section 7 puts both in one table.)

# %%
td = env.reset()
with torch.no_grad():
    greedy_action = policy(td.clone())["action"]
    print(f"outside any block: exploration_type() = {exploration_type()}")
    for kind in [None, *ExplorationType]:
        with set_exploration_type(kind):
            changed = any(not torch.equal(explorative(td.clone())["action"], greedy_action)
                          for _ in range(20))  # 20 tries: eps = 0.3 replaces some
        print(f"{str(kind):<14} explores: {changed}")

# %% [markdown]
# So to *evaluate* a policy that carries exploration modules you don't need to take them
# out: roll out under `DETERMINISTIC` and the chain acts exactly like the clean policy.

# %%
with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
    env.set_seed(0)
    explorative_td = env.rollout(200, explorative)
    env.set_seed(0)
    plain_td = env.rollout(200, policy)
assert torch.equal(explorative_td["action"], plain_td["action"])
print("identical actions over", len(plain_td), "steps:",
      torch.equal(explorative_td["action"], plain_td["action"]))

# %% [markdown]
# ## 4. Play with it
#
# The explorer below re-runs the rollout when you move a control. Drag **epsilon** from 0
# to 1 and watch the crosses multiply ("replaced by an exploration module" in the
# summary counts them): at epsilon = 0 no step is marked and at 1 every step is, for any
# seed and length. In between, each step is a coin flip, so the share of marked steps
# only wanders around epsilon. Across seeds 0-9 and every epsilon, the share stays within
# 0.1 of epsilon from 200 steps on; on shorter rollouts it strays further (by up to 0.3 at
# 20 steps): drag **steps** down and see. Then set **exploration** to `deterministic` and
# the marks all disappear, whatever epsilon says.

# %%
rltutor.explorer(env, explorative, controls=("epsilon", "exploration", "seed", "steps"))

# %% [markdown]
# ## 5. Annealing: explore a lot at first, less later
#
# `eps_init` and `eps_end` are the start and end of a straight line; `annealing_num_steps`
# is how many calls to `.step()` it takes to walk it. A rollout **never** calls `.step()`
# for you: your training loop does, typically once per batch of collected frames
# (`module.step(frames)` counts as that many calls).

# %%
annealing = EGreedyModule(spec=env.action_spec, eps_init=1.0, eps_end=0.1,
                          annealing_num_steps=100)
rltutor.rollout(env, TensorDictSequential(policy, annealing), steps=50, exploration="random",
                seed=0)
print("eps after a 50-step rollout:", float(annealing.eps))  # still eps_init
eps_history = [float(annealing.eps)]
for _ in range(150):
    annealing.step()
    eps_history.append(float(annealing.eps))
assert eps_history[100] == eps_history[-1] and abs(eps_history[100] - 0.1) < 1e-6

# %%
fig, ax = make_picture(figsize=(6, 2.6))
ax.plot(eps_history, color=PALETTE[0])
ax.axvline(100, ls=":", color=ROLES["done"])
ax.set(xlabel="calls to .step()", ylabel="eps", ylim=(0, 1.05),
       title="eps_init=1.0 → eps_end=0.1 over annealing_num_steps=100")
fig

# %% [markdown]
# ## Exercise 1: predict ε before you step
#
# First, on paper: what is epsilon of
# `EGreedyModule(spec, eps_init=1.0, eps_end=0.05, annealing_num_steps=500)` after **250**
# calls to `.step()`? And after 800? Write your guesses down.
#
# Then turn your reasoning into a function, `eps_after(calls, *, eps_init, eps_end,
# annealing_num_steps)`, that returns epsilon after `calls` calls to `.step()` for *any*
# schedule, without building a module. The check compares it with real `EGreedyModule`s
# on five schedules (the one above among them, and one stepped past its end) and prints
# your predictions: were your paper guesses right?

# %%
eps_after = None  # TODO: def eps_after(calls, *, eps_init, eps_end, annealing_num_steps): ...

# %%
ex.check_eps_after(eps_after)

# %% [markdown]
# ## 6. Continuous noise: Gaussian and Ornstein-Uhlenbeck
#
# For continuous actions there is a gentler way to explore than throwing the action away:
# nudge it. `AdditiveGaussianModule` adds `sigma × N(0, 1)` to the action at every step,
# independently, then clips to the spec. `sigma` anneals from `sigma_init` to `sigma_end`
# with `.step()`, just like eps (mind the defaults: 1.0 → 0.1).

# %%
gaussian = TensorDictSequential(
    policy, AdditiveGaussianModule(spec=env.action_spec, sigma_init=0.3, sigma_end=0.3))
gauss_td = rltutor.rollout(env, gaussian, steps=200, exploration="random", seed=0)

loud = TensorDictSequential(
    policy, AdditiveGaussianModule(spec=env.action_spec, sigma_init=5.0, sigma_end=5.0))
loud_td = rltutor.rollout(env, loud, steps=200, exploration="random", seed=0)
at_bound = (loud_td["action"].abs() == 2.0).float().mean()
print(f"sigma=5: min {loud_td['action'].min():.2f}, max {loud_td['action'].max():.2f}, "
      f"{at_bound:.0%} of actions clipped onto a bound")

# %% [markdown]
# `OrnsteinUhlenbeckProcessModule` adds noise that has **memory**: each step's noise is the
# previous one, pulled a little towards 0 (by a fraction `theta·dt` per step: with
# `theta=0.15` as below and `dt = 0.01` by default that is 0.15 %, so over 200 steps it is
# close to a random walk), plus a small random kick (of size `sigma·√dt`: `sigma=0.3`
# kicks by about 0.03). A push to the left tends to *stay* a push to the left for a while:
# the pushes add up instead of averaging out. (Whether that swings *this* pendulum further
# depends on where it starts: over seeds 0-9 it sometimes does, sometimes not.) We give it
# the same `sigma=0.3` as the Gaussian module above, so the two pictures below compare
# like with like: the same sigma, but small kicks that add up instead of fresh draws.
#
# Like ε-greedy, OU has an `eps` that anneals (`eps_init=1.0` → `eps_end=0.1` over
# `annealing_num_steps=1000` calls to `.step()`), and the noise added is **eps × the OU
# noise**. A rollout never calls `.step()`, so here eps stays 1.0 and the noise is the
# process itself; in a training loop it fades to a tenth.
#
# Where is that memory kept? Not in the module: in the TensorDict. Look at one step of an
# OU rollout: two new entries, `_ou_prev_noise` and `_ou_steps`, ride along from step to
# step.

# %%
ou = OrnsteinUhlenbeckProcessModule(spec=env.action_spec, sigma=0.3, theta=0.15)
print("OU eps:", float(ou.eps), "(the noise is multiplied by it; .step() anneals it)")
ou_policy = TensorDictSequential(policy, ou)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ou_td = rltutor.rollout(env, ou_policy, steps=200, exploration="random", seed=0)
rltutor.show(ou_td[10], module=ou_policy)

# %% [markdown]
# Now the noise itself: *noisy action minus clean action*, step by step, for both modules.
# The right panel is the autocorrelation: how similar the noise is to itself `lag` steps
# later. Gaussian noise forgets at once; OU noise still remembers 10 steps on.

# %%
def noise_of(td):
    with torch.no_grad():
        return (td["action"] - policy(td.select("observation").clone())["action"]).squeeze(-1)


def autocorrelation(x, lags=21):
    x = (x - x.mean()).numpy()
    return [1.0] + [float(np.corrcoef(x[:-k], x[k:])[0, 1]) for k in range(1, lags)]


# %%
gauss_noise, ou_noise = noise_of(gauss_td), noise_of(ou_td)
gauss_ac, ou_ac = autocorrelation(gauss_noise), autocorrelation(ou_noise)
print(f"autocorrelation at lag 1: Gaussian {gauss_ac[1]:+.2f}, OU {ou_ac[1]:+.2f}; "
      f"at lag 10: Gaussian {gauss_ac[10]:+.2f}, OU {ou_ac[10]:+.2f}")
assert abs(gauss_ac[1]) < 0.2 and ou_ac[10] > 0.3

# %%
fig, (left, right) = make_picture(1, 2, figsize=(10, 3), width_ratios=(2, 1))
left.plot(gauss_noise, lw=0.8, label="Gaussian noise (sigma=0.3)")
left.plot(ou_noise, lw=1.8, ls="--", label="OU noise (sigma=0.3, eps=1)")
left.set(xlabel="step", ylabel="noisy − clean action")
left.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False)
right.plot(gauss_ac, marker="o", ms=3, label="Gaussian")
right.plot(ou_ac, marker="s", ms=3, ls="--", label="OU")
right.axhline(0, color=ROLES["done"], lw=0.5)
right.set(xlabel="lag (steps)", ylabel="autocorrelation", title="memory of the noise")
right.legend(fontsize=8)
fig

# %% [markdown]
# ### Does OU need an `InitTracker`?
#
# The OU state must restart at 0 when an episode restarts, or the first steps of the new
# episode inherit the old episode's push. The module restarts it where the TensorDict
# says `is_init` is True, an entry that the `InitTracker` transform writes. At TorchRL
# 0.14 the module still runs without it, but warns at every call (Python shows the warning
# once unless asked for all of them), and its memory leaks
# across episodes. Here episodes are cut to 5 steps by `StepCounter`, so the truth is
# easy to see in `_ou_steps`:

# %%
print(str(caught[0].message).split(". ")[0] + ".")  # what the 200-step rollout above said
for transforms in ([StepCounter(max_steps=5)], [StepCounter(max_steps=5), InitTracker()]):
    short = TransformedEnv(rltutor.make_env("Pendulum-v1", seed=0), Compose(*transforms))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        td = rltutor.rollout(short, ou_policy, steps=12, exploration="random", seed=0,
                             break_when_done=False)  # go on through the episode ends
    names = " + ".join(type(t).__name__ for t in transforms)
    print(f"{names:<26} _ou_steps = {td['_ou_steps'].tolist()}")
assert td["_ou_steps"].tolist() == [1, 2, 3, 4, 5] * 2 + [1, 2]

# %% [markdown]
# Without `InitTracker` the counter (and the noise) runs on through the episode ends at
# steps 5 and 10; with it, both restart. So: **always give OU an `InitTracker`**.
#
# ## Exercise 2: noise for a throttle
#
# An exploration module needs an action spec, not an environment. Take a throttle whose
# action lies in **[0, 1]**. Build `throttle_noise`, an `AdditiveGaussianModule` for that
# range (make its spec with `torchrl.data.Bounded`) whose noise has a standard deviation
# of **10 % of the range**, and keeps it when `.step()` is called. Read the module's
# signature first (`AdditiveGaussianModule?`): more than one argument scales the noise.
#
# Then don't trust the arguments: **measure**. Run your module on many copies of one
# action, under `ExplorationType.RANDOM`, and set `measured_std` to the standard
# deviation of *noisy − clean*. Choose the action you measure at with care.

# %%
throttle_noise = None  # TODO: AdditiveGaussianModule(...) for actions in [0, 1]
measured_std = None  # TODO: the std of the noise it adds, as you measured it

# %%
ex.check_throttle_noise(throttle_noise, measured_std)

# %% [markdown]
# ## 7. The exploration-type contract, in one table
#
# Two kinds of module read the exploration type: lesson 03's *sampling* actors
# (`ProbabilisticActor`) and this lesson's *exploration modules*. They do not read it the
# same way. Rather than list the rules, let us measure them: call six policies 20 times
# each under every type (and under none) and say what came out. `random` means the 20
# calls disagreed; `= deterministic` means they all gave the action the policy gives
# under `DETERMINISTIC`.

# %%
td = env.reset()
columns = {
    "TanhNormal": (rltutor.make_gaussian_actor(env, bounded=True), td),
    "Normal": (rltutor.make_gaussian_actor(env, bounded=False), td),
    "categorical": (rltutor.make_categorical_actor(cartpole), cartpole.reset()),
    "EGreedy": (explorative, td),
    "Gaussian noise": (gaussian, td),
    "OU noise": (ou_policy, td),
}
table = exploration_table(columns, calls=20, seed=0)
print(table_to_text(table))

# %% [markdown]
# Read it row by row:
#
# - **None** (no `set_exploration_type` block at all): the two camps split. Exploration
#   modules explore; sampling actors do *not* sample, they fall back on their
#   `default_interaction_type`, which is `DETERMINISTIC` (a keyword of
#   `ProbabilisticActor`, printed below).
# - **RANDOM**: everything explores. This is the type to collect data under.
# - **DETERMINISTIC**: nothing explores. This is the type to evaluate under.
# - **MEAN** and **MODE** switch the exploration modules off, like `DETERMINISTIC`, but a
#   distribution must have a mean or a mode to give: a `TanhNormal` has no formula for
#   either, so its MEAN is an *estimate* from 1000 samples (it changes from call to call)
#   and its MODE raises; a categorical's MEAN is `nan`, not an action. `Normal` gives its
#   `loc` under all three.

# %%
sampler = columns["TanhNormal"][0]
print("the TanhNormal actor's default_interaction_type:", sampler.default_interaction_type)
samplers, modules = ("TanhNormal", "Normal", "categorical"), ("EGreedy", "Gaussian noise",
                                                              "OU noise")
assert {table["None"][name] for name in samplers} == {table["DETERMINISTIC"]["Normal"]}
assert {table["None"][name] for name in modules} == {table["RANDOM"]["EGreedy"]} == {"random"}
assert table["MEAN"]["TanhNormal"] == "random" and "error" in table["MODE"]["TanhNormal"]
assert table["MEAN"]["categorical"].startswith("nan")

# %% [markdown]
# Who sets the type? Not you, most of the time. A forward pre-hook on the policy records
# the type each call runs under:

# %%
seen = []
hook = sampler.register_forward_pre_hook(lambda module, args: seen.append(exploration_type()))
env.rollout(3, sampler)
print(f"env.rollout       runs it under {set(map(str, seen))}")
collector = Collector(env, sampler, frames_per_batch=3, total_frames=3,
                      auto_register_policy_transforms=False)  # (a warning about v0.15)
seen.clear()  # building the collector ran the policy once, to see what it writes
next(iter(collector))
collector.shutdown()
print(f"a Collector       runs it under {set(map(str, seen))}")
seen.clear()
rltutor.evaluate(env, sampler, episodes=1, seed=0, max_steps=3)
print(f"rltutor.evaluate  runs it under {set(map(str, seen))}")
hook.remove()

# %% [markdown]
# So `env.rollout` sets nothing: a sampling actor acts deterministically there, while an
# exploration module explores. A collector sets `RANDOM`, so both explore while you
# collect; `rltutor.evaluate` sets `DETERMINISTIC`, so neither does while you measure.
# When you call `env.rollout` yourself, say which you want with `set_exploration_type`.

# %% [markdown]
# ## Recap
#
# - Exploration modules go **after** the policy in a `TensorDictSequential` and rewrite
#   `action` in place; the policy does not change.
# - `EGreedyModule` replaces the action with probability `eps` by `spec.rand()`;
#   `AdditiveGaussianModule` adds independent noise and clips with the spec;
#   `OrnsteinUhlenbeckProcessModule` adds correlated noise whose state rides in the
#   TensorDict (`_ou_prev_noise`, `_ou_steps`) and is reset by `is_init` from `InitTracker`.
# - Every one of them needs the action spec: to know what a random action looks like and
#   where the bounds are.
# - `eps`/`sigma` anneal only when *you* call `.step()`.
# - They explore under `ExplorationType.RANDOM` or no type at all, and do nothing under
#   `DETERMINISTIC` (or `MODE`, `MEAN`, `MEDIAN`). Sampling actors sample only under
#   `RANDOM`: with no type set they use their `default_interaction_type`, `DETERMINISTIC`.
# - `env.rollout` sets no type, a collector sets `RANDOM`, `rltutor.evaluate` sets
#   `DETERMINISTIC`.
#
# **Next:** lesson 05, where a policy picks discrete actions by their *value*, with
# `QValueModule`, and ε-greedy gets a second job.
