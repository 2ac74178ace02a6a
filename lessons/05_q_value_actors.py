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
# # Lesson 05 — Q-value actors: pick the action with the highest value
#
# So far a network *produced* the action. A Q-value policy works differently: the network
# scores **every** possible action (its *action values*, or Q-values) and the policy takes
# the best one. This is the policy of DQN and its relatives, for discrete actions such as
# CartPole's "push left" or "push right".
#
# **What you will learn**
# - a value network that writes `action_value`: one number per action
# - `QValueModule`, which turns those numbers into a one-hot `action` and a
#   `chosen_action_value`, and why its `spec` must be passed **by keyword**
# - how to read one-hot actions, and how to watch the argmax decide, step by step
# - ε-greedy on top of a greedy policy, and what it does to `chosen_action_value`
# - `QValueActor`: the same policy in one line

# %%
import inspect

import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.modules import MLP, EGreedyModule, QValueActor, QValueModule

import rltutor
from rltutor.exercises import lesson05 as ex
from rltutor.plots import PALETTE, make_picture

env = rltutor.make_env("CartPole-v1", seed=0)  # GymEnv + set_seed in one call (lesson 01)
torch.manual_seed(0)
print(env.action_spec.__class__.__name__, "with", env.action_spec.space.n, "choices;",
      "a random action:", env.action_spec.rand())

# %% [markdown]
# ## 1. One-hot actions
#
# CartPole's action spec is `OneHot`: an action is a vector with a single 1 at the index
# of the choice. `[1, 0]` pushes the cart left, `[0, 1]` pushes it right. The spec converts
# both ways.

# %%
push_right = torch.tensor([0, 1])
print("index of", push_right.tolist(), "=", env.action_spec.to_categorical(push_right).item())
print("one-hot of index 0 =", nn.functional.one_hot(torch.tensor(0), 2).tolist())
print("is [0, 1] a legal action?", bool(env.action_spec.is_in(push_right)))

# %% [markdown]
# ## 2. The value network writes `action_value`
#
# Any network that maps an observation (4 numbers) to one score per action (2 numbers)
# will do. Wrap it in a `TensorDictModule` whose out_key is `action_value`: that is the
# key the next module reads.

# %%
torch.manual_seed(0)
value_net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[32]),
                             in_keys=["observation"], out_keys=["action_value"])
td = value_net(env.reset())
rltutor.show(td, module=value_net)

# %% [markdown]
# ## 3. `QValueModule` takes the argmax
#
# `QValueModule` has no parameters. It reads `action_value`, finds the largest entry and
# writes three keys: `action` (one-hot, in the spec's format), `action_value` (passed
# through) and `chosen_action_value` (the largest value). The diff shows what it added.

# %%
qvalue = QValueModule(spec=env.action_spec)
q_policy = TensorDictSequential(value_net, qvalue)
after = qvalue(td.clone())
assert torch.equal(after["action"], nn.functional.one_hot(td["action_value"].argmax(), 2))
rltutor.diff(td, after)

# %%
rltutor.dataflow(q_policy)

# %% [markdown]
# ### Why `spec=` must be a keyword
#
# Look at the order of `QValueModule`'s parameters: the first one is **not** the spec. It
# is `action_space`, a *string* naming the kind of action (`"one_hot"`, `"categorical"`,
# …). Hand it the spec positionally and, at TorchRL 0.14, it refuses.
# `rltutor.expect_error` runs a line that is meant to fail and prints the error line and
# rltutor's hint instead of a screen of traceback:

# %%
print("first parameters:", list(inspect.signature(QValueModule).parameters)[:3])
with rltutor.expect_error(TypeError):
    QValueModule(env.action_spec)

# %% [markdown]
# And naming an `action_space` that does not match the environment gives actions in the
# wrong format. With `"categorical"`, the action is an index where CartPole's spec expects
# a one-hot vector:

# %%
wrong_kind = QValueModule(action_space="categorical")(td.clone())["action"]
print("categorical action:", wrong_kind, "| legal for CartPole?",
      bool(env.action_spec.is_in(wrong_kind)))
print("with spec=:        ", after["action"], "| legal for CartPole?",
      bool(env.action_spec.is_in(after["action"])))

# %% [markdown]
# Passing `spec=env.action_spec` by keyword lets the module read the action space *from*
# the spec, so the two can never disagree.
#
# ## 4. Watching the argmax
#
# An untrained network has no idea about poles. Ours happens to prefer "right" everywhere,
# so the pole falls after 8 to 11 steps, over and over, from every start (seeds 0-9). The
# dotted lines mark episode ends; the legend names each observation entry because
# `plot_rollout` was given `env=env` (without it they would read `obs[0]` ... `obs[3]`):

# %%
with torch.no_grad():  # collecting data, not training: no graph
    untrained_td = rltutor.rollout(env, q_policy, steps=60, seed=0, break_when_done=False)
print("actions:", untrained_td["action"].argmax(-1).tolist())
rltutor.plot_rollout(untrained_td, env=env,  # env=: the legend names each observation
                     title="untrained value network: always the same choice")

# %% [markdown]
# To see the argmax at work, give the value network sensible weights by hand. Let the value
# of pushing **right** be `angle + 0.5 × angular velocity` of the pole, and the value of
# pushing **left** its negative: push towards the side the pole is falling to. One linear
# layer, no bias:

# %%
by_hand = nn.Linear(4, 2, bias=False)
with torch.no_grad():
    by_hand.weight.copy_(torch.tensor([[0.0, 0.0, -1.0, -0.5],    # value of "left"
                                       [0.0, 0.0, 1.0, 0.5]]))    # value of "right"
balancer = TensorDictSequential(
    TensorDictModule(by_hand, in_keys=["observation"], out_keys=["action_value"]),
    QValueModule(spec=env.action_spec))
with torch.no_grad():
    balance_td = rltutor.rollout(env, balancer, steps=200, seed=0, break_when_done=False)
print("episode ended:", bool(balance_td["next", "done"].any()), "| reward:",
      balance_td["next", "reward"].sum().item())

# %% [markdown]
# Ten lines of weights, and the pole stays up: from starts 0-9 the balancer never drops it
# in 200 steps. Every step, both values are computed and the larger one wins. The table
# shows the first steps; the plot shows 40, with the winner of each step marked.

# %%
print("step   value(left)  value(right)  action   chosen_action_value")
for t in range(6):
    left, right = balance_td["action_value"][t].tolist()
    print(f"{t:>4}   {left:>+10.3f}  {right:>+11.3f}   {balance_td['action'][t].tolist()}"
          f"   {balance_td['chosen_action_value'][t].item():>+.3f}")

# %%
steps = torch.arange(40)
values = balance_td["action_value"][:40]
chosen = balance_td["chosen_action_value"][:40, 0]
taken = balance_td["action"][:40].argmax(-1)
fig, ax = make_picture(figsize=(9, 2.8))
for a, (side, ls, marker) in enumerate([("left", "-", "o"), ("right", "--", "s")]):
    ax.plot(steps, values[:, a], color=PALETTE[a], ls=ls, label=f"value of {side}")
    ax.scatter(steps[taken == a], chosen[taken == a], s=30, zorder=3, color=PALETTE[a],
               marker=marker, label=f"chosen: {side} (the max)")
ax.set(xlabel="step", ylabel="action_value", title="QValueModule picks the larger value")
ax.legend(fontsize=8, ncol=4)
fig

# %% [markdown]
# The same balancing, drawn by the environment (press ▶):

# %%
rltutor.animate(rltutor.make_env("CartPole-v1", seed=0, render=True), balancer, steps=60,
                downscale=3)  # every third pixel each way: a ninth of the bytes per frame

# %% [markdown]
# ## Exercise 1: a Q-value policy for index actions
#
# CartPole's actions are one-hot because TorchRL's `GymEnv` hands gymnasium's discrete
# actions over that way by default. It can also hand them over as plain **indices**: a
# `Categorical` spec, where the action is `2` rather than `[0, 0, 1]`. The argument that
# does it is in `GymEnv`'s docstring (`help(GymEnv)`, from `torchrl.envs`).
#
# Build, for **Acrobot-v1** (a two-link arm to swing up: 6 observation numbers, 3 torques):
#
# - `index_env`: an Acrobot environment whose action spec is `Categorical`;
# - `index_policy`: a greedy Q-value policy for it.
#
# Predict first: what shape does the `action` of a 10-step rollout have? The check rolls
# your policy out in an Acrobot env of its own (yours keeps its seed) and checks the keys,
# the argmax and the action format.

# %%
index_env = None  # TODO: Acrobot-v1 with index actions
index_policy = None  # TODO: a value network, then a QValueModule

# %%
ex.check_index_qvalue_policy(index_policy, index_env)

# %% [markdown]
# ## 5. ε-greedy on top
#
# A greedy policy never tries the action it currently thinks worse. The `EGreedyModule`
# of lesson 04 fixes that here too: put it last, and with probability `eps` the one-hot
# action is replaced by `env.action_spec.rand()`, another one-hot vector.

# %%
egreedy = EGreedyModule(spec=env.action_spec, eps_init=0.5, eps_end=0.5)
explorative = TensorDictSequential(balancer, egreedy)
with torch.no_grad():
    explored_td = rltutor.rollout(env, explorative, steps=300, exploration="random", seed=0,
                                  break_when_done=False)
rltutor.plot_rollout(explored_td, env=env, title="the balancer with ε-greedy, eps = 0.5")

# %% [markdown]
# The crosses mark steps where the action taken is not the argmax. With half of its actions
# up for grabs, the balancer of this run (seed 0) holds the pole for about a hundred steps,
# then drops it (the dotted line is an episode end). That is one seed: across seeds 0-9
# the first fall comes as early as step 23, or not at all in the 300 steps. Notice that
# `chosen_action_value` was written **before** ε-greedy acted: it is the value of the
# *greedy* action, not of the action that was taken. Where they differ:

# %%
taken = explored_td["action"].argmax(-1)
greedy = explored_td["action_value"].argmax(-1)
for t in (taken != greedy).nonzero().flatten()[:4].tolist():
    print(f"step {t:>3}: took {taken[t].item()}, greedy {greedy[t].item()}, chosen_action_value "
          f"{explored_td['chosen_action_value'][t].item():+.3f} = value of action "
          f"{greedy[t].item()}, not of action {taken[t].item()}")
assert bool((taken != greedy).any())

# %% [markdown]
# Now play: drag **epsilon**, change the **seed**, and count the episode ends (dotted
# lines, and "episodes ended" in the summary). Across seeds 0-9: up to eps = 0.1 the pole
# never falls in the 300 steps; at 0.5 it falls 0 to 3 times, depending on the seed; from
# 0.7 on it falls at least 3 times, and at eps = 1 (every action random) 7 to 18 times.
# Switch **exploration** to `deterministic` and it never falls, whatever epsilon says.
# (`tests/test_lesson_claims.py` replays this sweep, so these numbers are checked.)

# %%
rltutor.explorer(env, explorative, controls=("epsilon", "exploration", "seed", "steps"),
                 steps=300)

# %% [markdown]
# ## Exercise 2: how often does ε-greedy change the action?
#
# Write a function `overridden_fraction(eps)` that returns the fraction of steps (a
# float) where an ε-greedy balancer with that `eps` takes another action than the
# argmax of `action_value`. Build a fresh `EGreedyModule` with `eps_init=eps_end=eps`
# after `balancer`, call the chain once on the 300 observations of
# `explored_td.select("observation")` (no exploration type is set, so it explores), and
# compare `action` with the argmax, as above. Predict first: at eps = 1, is it 1?

# %%
def overridden_fraction(eps):
    return None  # TODO: a float between 0 and 1


# %%
ex.check_overridden_fraction(overridden_fraction)

# %% [markdown]
# ## 6. The `QValueActor` shortcut
#
# Value network + `QValueModule` is so common that TorchRL bundles it: `QValueActor` takes
# the bare network, its `in_keys` and the spec, and builds both modules for you. Same keys,
# fewer lines:

# %%
actor = QValueActor(by_hand, in_keys=["observation"], spec=env.action_spec)
print("in_keys :", actor.in_keys, "==", balancer.in_keys)
print("out_keys:", actor.out_keys, "==", balancer.out_keys)
rltutor.dataflow(actor)

# %% [markdown]
# Built around the same linear layer, it acts exactly like the hand-made `balancer`:

# %%
with torch.no_grad():
    actor_td = rltutor.rollout(env, actor, steps=200, seed=0, break_when_done=False)
assert actor.in_keys == balancer.in_keys and set(actor.out_keys) == set(balancer.out_keys)
assert torch.equal(actor_td["action"], balance_td["action"])
print("identical actions over 200 steps:", torch.equal(actor_td["action"], balance_td["action"]))

# %% [markdown]
# ## Recap
#
# - A Q-value policy is a value network writing `action_value` (one number per action)
#   followed by `QValueModule`, which writes the argmax as `action` and its value as
#   `chosen_action_value`.
# - CartPole's actions are **one-hot**; `spec.to_categorical` turns them into indices.
# - Give `QValueModule` the spec **by keyword**: its first positional parameter is
#   `action_space`, and passing a spec there raises a `TypeError`.
# - `EGreedyModule` after the Q-value policy explores with `spec.rand()`;
#   `chosen_action_value` still reports the greedy action's value.
# - `QValueActor(net, in_keys=..., spec=...)` builds the same two modules in one line.
#
# **Next:** lesson 06, recurrent policies, where the policy carries a memory from step to
# step inside the TensorDict.
