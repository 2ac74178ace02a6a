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
# # Lesson 13 — PPO trains the probabilistic actor: a shared trunk swings up Pendulum
#
# Lesson 03 built a `ProbabilisticActor` (a network, `NormalParamExtractor`, `TanhNormal`);
# lesson 09 put a value head beside it on one shared trunk (`ActorValueOperator`); lesson
# 10 showed `ClipPPOLoss` and `GAE` reading a batch. None of them learned anything. Here
# that same actor-critic learns to swing the pendulum up and hold it there, trained by
# PPO from TorchRL's own parts, in well under a minute of CPU time.
#
# **What you will learn**
# - a batched environment: 8 Pendulums stepped together by gymnasium, in one `GymWrapper`
# - `ClipPPOLoss(agent.get_policy_operator(), agent.get_value_operator())` with `GAE`, and
#   what a shared trunk means for the two losses (`separate_losses`) and for the optimizer
# - the PPO loop written out: collect, GAE over the whole batch, epochs of minibatches
#   (`SamplerWithoutReplacement`), gradient clipping
# - exploration types at work: the collector samples (RANDOM), evaluation is DETERMINISTIC
# - normalisation: advantages, and rewards scaled so the critic does not drown the policy
# - honest numbers: the best checkpoint picked on selection episodes, reported on 20
#   held-out ones, and a seed table from `benchmarks/bench_ppo.py`

# %%
import copy
import json
import logging
from pathlib import Path

import gymnasium as gym
import ipywidgets as widgets
import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn

# %%
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer, SamplerWithoutReplacement
from torchrl.envs import GymWrapper, RewardScaling, TransformedEnv
from torchrl.modules import MLP, ActorValueOperator, ProbabilisticActor, TanhNormal, ValueOperator
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE

import rltutor
from rltutor.exercises import lesson13 as ex
from rltutor.plots import PALETTE, ROLES, make_picture

# %% [markdown]
# ## 1. The settings
#
# As in lesson 11: one CPU thread, every seed set, and a budget counted in frames, never
# in seconds, so that two runs give the same numbers to the last bit. These are the
# settings of `benchmarks/bench_ppo.py`, which trains them on three seeds (section 9).

# %%
torch.set_num_threads(1)
logging.getLogger("torchrl").setLevel(logging.WARNING)  # its INFO lines carry a clock time
SEED = 0
NUM_ENVS = 8                  # Pendulums stepped side by side
FRAMES_PER_BATCH = 2048       # 256 steps of each of the 8
TOTAL_FRAMES = 40_960         # 20 batches
EPOCHS, MINIBATCH = 10, 256   # 10 passes over each batch, 256 transitions at a time
GAMMA, LMBDA = 0.9, 0.95      # discount, and GAE's lambda
CLIP_EPSILON = 0.2            # how far one batch may move the policy
REWARD_SCALE = 0.1            # the critic learns returns 10x smaller (section 8)
EVAL_EVERY = 4096             # frames between two greedy evaluations

# %% [markdown]
# ## 2. Eight Pendulums in one environment
#
# PPO learns from batches of fresh experience, and many environments fill a batch faster
# than one. gymnasium's `SyncVectorEnv` steps 8 Pendulums in one call; `GymWrapper` turns
# it into one TorchRL environment with batch size `[8]`. We switch gymnasium's own
# automatic resets off: TorchRL resets an environment itself when it is done. (Lesson
# 08's `SerialEnv` would do the same job, but here one gymnasium call per step is about
# four times faster.) `RewardScaling` divides every reward by 10 on the way to the
# learner; section 8 says why. The evaluation environment is a plain one, unscaled.

# %%
def make_pendulums(seed: int) -> TransformedEnv:
    vector = gym.vector.SyncVectorEnv([lambda: gym.make("Pendulum-v1")] * NUM_ENVS,
                                      autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    env = TransformedEnv(GymWrapper(vector), RewardScaling(loc=0.0, scale=REWARD_SCALE))
    env.set_seed(seed)
    return env


train_env = make_pendulums(SEED)
eval_env = rltutor.make_env("Pendulum-v1", seed=SEED)  # the collector never steps this one
torque = train_env.action_spec_unbatched.space
print("batch size:", train_env.batch_size, "| torque from", torque.low.item(), "to",
      torque.high.item())

# %% [markdown]
# ## 3. The agent: lesson 09's shared trunk, lesson 03's actor
#
# A trunk reads the observation and writes 64 features under `"hidden"`; the policy head
# turns them into `loc` and `scale` (`NormalParamExtractor`) for a `TanhNormal` between
# -2 and 2, the torque limits; the value head turns them into `state_value`.
# `ActorValueOperator` holds the three, and its two getters hand out the halves PPO needs.

# %%
torch.manual_seed(SEED)
trunk = TensorDictModule(MLP(in_features=3, out_features=64, num_cells=[64],
                             activation_class=nn.Tanh, activate_last_layer=True),
                         in_keys=["observation"], out_keys=["hidden"])
policy_head = ProbabilisticActor(
    TensorDictModule(nn.Sequential(nn.Linear(64, 2), NormalParamExtractor()),
                     in_keys=["hidden"], out_keys=["loc", "scale"]),
    in_keys=["loc", "scale"], spec=train_env.action_spec_unbatched,
    distribution_class=TanhNormal, distribution_kwargs={"low": -2.0, "high": 2.0},
    return_log_prob=True)
value_head = ValueOperator(nn.Linear(64, 1), in_keys=["hidden"])
agent = ActorValueOperator(trunk, policy_head, value_head)
policy, value = agent.get_policy_operator(), agent.get_value_operator()
untrained = copy.deepcopy(policy)  # for the "before" pictures
rltutor.dataflow(agent)

# %% [markdown]
# How good is it now? `BestCheckpoint` (from rltutor) plays 5 *selection* episodes
# greedily (seeds 1000-1004) whenever we ask, and keeps a copy of the weights whenever
# they beat the best so far. Pendulum gives a penalty at every step for being away from
# upright, for moving fast and for pushing hard: a return near -1200 means it hangs
# or spins, one above -200 means it swings up and stays there.

# %%
best = rltutor.BestCheckpoint(agent, env=eval_env, episodes=5, seed=1_000)
print(f"greedy return before training: {best.consider(frames=0):.1f}")
print("registry threshold for Pendulum-v1:", rltutor.reward_threshold("Pendulum-v1"),
      "-> -200 is our milestone, not an official bar")

# %% [markdown]
# ## 4. The loss, the advantage, the optimizer
#
# `GAE` reads the rewards and the value head's `state_value` at each step and the next,
# and writes each step's `advantage` (how much better things went than the critic
# expected) and `value_target` (what the critic should have said). `ClipPPOLoss` takes
# the two halves of the agent: the policy for the clipped objective, the value operator
# for the critic's error. Its options, one by one: no entropy bonus (the `TanhNormal`
# explores enough here), the critic's term weighted 0.5, a squared error, and advantages
# normalised in each minibatch (section 8).

# %%
advantage = GAE(gamma=GAMMA, lmbda=LMBDA, value_network=value)
loss_fn = ClipPPOLoss(agent.get_policy_operator(), agent.get_value_operator(),
                      clip_epsilon=CLIP_EPSILON, entropy_bonus=False, critic_coeff=0.5,
                      loss_critic_type="l2", normalize_advantage=True)
optimizer = torch.optim.Adam(loss_fn.parameters(), lr=1e-3)

# %% [markdown]
# **What the shared trunk means for the optimizer.** The policy operator and the value
# operator each contain the trunk. Counted through them, the trunk is there twice; the
# loss module lists each parameter once, so the one optimizer over `loss_fn.parameters()`
# steps the trunk once per update. (Two optimizers, one per operator, would each step
# it: two Adam steps per update for the trunk, one for each head.)

# %%
def n_params(parameters):
    return sum(p.numel() for p in parameters)


print("policy operator + value operator:", n_params(policy.parameters())
      + n_params(value.parameters()), "numbers (the trunk counted twice)")
print("the whole agent:                 ", n_params(agent.parameters()))
print("what the optimizer steps:        ", n_params(loss_fn.parameters()))

# %% [markdown]
# **What it means for the two losses.** The policy's term and the critic's term both
# reach the trunk: the features are trained to serve both heads. `separate_losses=True`
# cuts the critic off the shared part: the value head still learns, but the trunk learns
# from the policy's term alone. On one batch (collected from a copy of the environment,
# with the random numbers forked, so the run below is not disturbed), the trunk's
# gradient from the critic's term alone, both ways:

# %%
def trunk_grad_from_critic(separate_losses: bool) -> float:
    probe = ClipPPOLoss(policy, value, separate_losses=separate_losses, loss_critic_type="l2")
    agent.zero_grad()
    probe.loss_critic(probe_batch)[0].mean().backward()
    grads = [p.grad for p in trunk.parameters() if p.grad is not None]
    return sum(g.norm() ** 2 for g in grads) ** 0.5 if grads else 0.0


with torch.random.fork_rng(), torch.no_grad():
    probe_batch = advantage(make_pendulums(SEED + 100).rollout(16, policy))
for separate in (False, True):
    print(f"separate_losses={separate!s:<5}: |trunk gradient| from the critic's term = "
          f"{float(trunk_grad_from_critic(separate)):.4f}")
agent.zero_grad()

# %% [markdown]
# We keep the default (`False`): sharing is the point of the trunk. Section 8 shows what
# that asks of the critic's scale.
#
# ## 5. The loop
#
# The `Collector` runs the policy in the 8 environments and hands over 2,048 frames at a
# time, shaped `[8, 256]`: 8 environments, 256 steps each. It samples the actions (its
# exploration type is RANDOM, lesson 09) and records each one's `action_log_prob`, which
# the loss compares against later. The replay buffer holds one batch only: PPO learns
# from fresh experience and throws it away. `SamplerWithoutReplacement` hands out every
# transition exactly once per pass, in a new order each pass.

# %%
collector = Collector(train_env, policy, frames_per_batch=FRAMES_PER_BATCH,
                      total_frames=TOTAL_FRAMES, auto_register_policy_transforms=False)
buffer = ReplayBuffer(storage=LazyTensorStorage(FRAMES_PER_BATCH),
                      sampler=SamplerWithoutReplacement(), batch_size=MINIBATCH,
                      generator=torch.Generator().manual_seed(SEED))

# %% [markdown]
# One update: the loss on a minibatch (the two terms added), backward, gradients clipped
# to a total norm of 0.5 (a few large advantages must not throw the policy far), a step.

# %%
def ppo_update(minibatch) -> float:
    losses = loss_fn(minibatch)
    loss = losses["loss_objective"] + losses["loss_critic"]
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(loss_fn.parameters(), max_norm=0.5)
    optimizer.step()
    return loss.item()

# %% [markdown]
# And the loop, top to bottom. Per batch: note what the sampled actions earned, compute
# GAE once over the whole batch (the value head has not moved yet, and each step's
# advantage needs the steps after it), put the 2,048 transitions in the buffer, and make
# 10 passes over them in minibatches of 256 (80 updates). Every 4,096 frames the greedy
# policy plays the selection episodes. The `TrainingMonitor` only watches.

# %%
monitor = rltutor.TrainingMonitor(total_frames=TOTAL_FRAMES, target_return=-200, title="PPO")
sampled, frames = [], 0
for batch in collector:
    frames += batch.numel()
    sampled.append((frames, batch["next", "reward"].mean().item() * 200 / REWARD_SCALE))
    with torch.no_grad():
        advantage(batch)  # writes "advantage" and "value_target" at every step
    buffer.extend(batch.reshape(-1))
    for _ in range(EPOCHS):
        for minibatch in buffer:  # 8 minibatches: every transition once per epoch
            loss = ppo_update(minibatch)
    greedy = best.consider(frames=frames) if frames % EVAL_EVERY == 0 else None
    monitor.update(frames=frames, loss=loss, eval_return=greedy)
monitor.close()
collector.shutdown()

# %% [markdown]
# ## 6. The same policy, two ways of acting
#
# Two returns were recorded while it trained: what the collector's **sampled** actions
# earned (RANDOM; the batch's mean reward per step, times Pendulum's 200 steps, unscaled),
# and what the **greedy** policy earned on the selection episodes (DETERMINISTIC: the
# `TanhNormal`'s mode, the action the policy thinks best). One policy, two numbers:

# %%
fig, ax = make_picture(figsize=(7.5, 3.2))
ax.plot(*zip(*sampled), "o-", ms=3, color=PALETTE[1], label="sampled (collector, RANDOM)")
ax.plot(*zip(*best.history), "s-", ms=4, color=PALETTE[0], label="greedy (DETERMINISTIC)")
ax.axhline(-200, ls="--", color=ROLES["target"], lw=1, label="milestone -200")
ax.set(xlabel="frames collected", ylabel="return per episode", title="one policy, two ways")
ax.legend(fontsize=8)
fig

# %%
for (f, s), (_, g) in zip(sampled[1::2], best.history[1:]):
    print(f"{f:>6,} frames: sampled {s:7.1f} | greedy {g:7.1f}")

# %% [markdown]
# At first both are below -1,000: neither way of acting swings the pendulum up. After
# that the greedy return is the higher one at every evaluation (here, and on all three
# seeds of section 9): the sampled torques wobble around the greedy one, and every wobble
# costs a little reward. The collector needs the wobble (it is how PPO tries things);
# the evaluation does not.
#
# ## 7. The result, told honestly
#
# PPO's greedy return does not rise monotonically, so we keep the best checkpoint. But
# the best of ten noisy evaluations is high partly by luck: it was *picked* on those 5
# selection episodes. So the report uses 20 other episodes, seeds 10,000 to 10,019,
# that played no part in the choice.

# %%
best.load_best()
report = rltutor.held_out(eval_env, policy, episodes=20, seed=10_000)
print(f"best checkpoint: {best.best_return:.1f} on the 5 selection episodes, "
      f"after {best.best_frames:,} frames")
print("held out:", report)
assert report.mean >= -200, "PPO did not reach the -200 milestone on held-out episodes"

# %% [markdown]
# ## 8. Normalisation: what PPO needs, and why the rewards are scaled
#
# **Advantages.** `normalize_advantage=True` shifts and scales the advantages of each
# minibatch to mean 0 and standard deviation 1. Early on every action is bad (all
# advantages large and negative, in the reward's units); normalised, the policy gradient
# has the same size whatever the reward's scale, and half the actions are pushed up.
#
# **Rewards.** Pendulum's rewards reach -16 per step, so with γ = 0.9 the critic's
# targets reach about -160. A squared error on such numbers is large, and in a shared
# trunk its gradient drowns the policy's; the gradient clipping then shrinks both
# together, so the policy's part of each step gets smaller still. Here is the policy's
# share of the trunk's gradient on the last batch, as trained (rewards scaled by 0.1) and
# with the same batch's rewards left unscaled:

# %%
def policy_share_of_trunk_grad(rewards_times: float) -> float:
    scaled = batch.clone()
    scaled["next", "reward"] *= rewards_times
    with torch.no_grad():
        advantage(scaled)
    terms = loss_fn(scaled.reshape(-1)[:512])
    norms = []
    for key in ("loss_objective", "loss_critic"):
        grads = torch.autograd.grad(terms[key], list(trunk.parameters()))
        norms.append(sum(g.norm() ** 2 for g in grads) ** 0.5)
    return (norms[0] / (norms[0] + norms[1])).item()


print(f"rewards as trained:           {policy_share_of_trunk_grad(1):.1%}")
print(f"the same batch, unscaled (x10): {policy_share_of_trunk_grad(10):.1%}")

# %% [markdown]
# What leaving either out costs over a whole run is in the table of section 9: the
# script ran the lesson's loop without reward scaling, and without advantage
# normalisation, on the same seeds and budget.
#
# ## 9. Three seeds, and what each choice is worth
#
# Seed 0 is the run above. `benchmarks/bench_ppo.py` trained the same loop on seeds 0, 1
# and 2, and the same loop with one thing changed: separate networks (a trunk each,
# lesson 09's `ActorCriticWrapper`, two hidden layers of 64), no reward scaling, no
# advantage normalisation. It wrote its results to
# `benchmarks/ppo_results.json` (`python benchmarks/bench_ppo.py --write` makes them
# again; `make bench` re-checks them). We read them, after checking that they were made
# with this lesson's settings.

# %%
results = json.loads(Path("../benchmarks/ppo_results.json").read_text())
config = results["config"]
assert (config["num_envs"], config["frames_per_batch"], config["total_frames"],
        config["epochs"], config["minibatch"], config["gamma"], config["lmbda"],
        config["clip_epsilon"], config["reward_scale"], config["eval_every"]) == (
    NUM_ENVS, FRAMES_PER_BATCH, TOTAL_FRAMES, EPOCHS, MINIBATCH, GAMMA, LMBDA,
    CLIP_EPSILON, REWARD_SCALE, EVAL_EVERY), "the results file is from other settings"
runs = results["runs"]
print("seeds:", results["seeds"], "| made on:", results["machine"])

# %%
print(f"{'run':<28}{'held-out mean per seed':<30}{'mean':>7}")
for name, seed_runs in runs.items():
    means = [r["held_out_mean"] for r in seed_runs]
    print(f"{name:<28}{', '.join(f'{m:7.1f}' for m in means):<30}"
          f"{sum(means) / len(means):7.1f}")

# %%
rltutor.plot_learning_curves(
    {"shared trunk (this lesson)" if name == "lesson" else name:
     [r["greedy_return"] for r in seed_runs] for name, seed_runs in runs.items()},
    frames=runs["lesson"][0]["eval_frames"], threshold=-200,
    threshold_label="milestone -200 (Pendulum has no registry threshold)",
    title="greedy return on the selection episodes, 3 seeds each")

# %% [markdown]
# All three seeds of the shared trunk pass the milestone on their held-out episodes;
# separate networks pass it on two of the three, on the same budget. So the shared trunk
# is not what limits this run, and it trains one network instead of two. Without reward
# scaling every seed's held-out mean stays below -600 in this budget; without advantage
# normalisation the runs still learn, but two of the three seeds end below the milestone.
# Per seed, the
# script's numbers; seed 0's are the same as ours to the last digit (same settings, same
# seeds, one thread):

# %%
for r in runs["lesson"]:
    print(f"seed {r['seed']}: best {r['best_selection_return']:7.1f} at {r['best_frames']:>6,} "
          f"frames | held out: mean {r['held_out_mean']:7.1f}, min {r['held_out_min']:7.1f} "
          f"| {r['frames']:,} frames, {r['cpu_seconds']:.0f} s of CPU")
means = torch.tensor([r["held_out_mean"] for r in runs["lesson"]])
print(f"held-out mean over seeds: {means.mean():.1f} ± {means.std():.1f} (std)")
assert [round(x, 2) for x in report.returns] == runs["lesson"][0]["held_out_returns"]

# %% [markdown]
# ## 10. Before and after
#
# The untrained and the trained (best checkpoint) policy from the same start (seed 0),
# drawn by the environment at five moments of their first 100 steps.

# %%
render_env = rltutor.make_env("Pendulum-v1", seed=0, render=True)
before = rltutor.animate(render_env, untrained, steps=100, seed=0, downscale=4)
after = rltutor.animate(render_env, policy, steps=100, seed=0, downscale=4)
fig, axes = make_picture(2, 5, figsize=(8, 3.5), alt="Pendulum frames at steps 0, 20, 40, "
                         "60 and 99: the untrained policy above, the trained one below.")
for row, (movie, name) in enumerate([(before, "untrained"), (after, "trained")]):
    for ax, t in zip(axes[row], (0, 20, 40, 60, 99)):
        ax.imshow(movie.frames[t])
        ax.set_title(f"{name}, t={t}", fontsize=8)
        ax.axis("off")
fig

# %% [markdown]
# The trained policy in motion (press ▶):

# %%
after

# %% [markdown]
# ### Play: sampled or greedy?
#
# The explorer runs the trained policy with the exploration type you pick. Compare
# **random** (the collector's way) with **deterministic** (the evaluation's) on a few
# **seeds**: where does the sampled torque stray from the greedy one, and does the
# pendulum still get up?

# %%
rltutor.explorer(eval_env, policy, controls=("exploration", "seed", "steps"), steps=200)

# %% [markdown]
# ## Exercise 1: GAE by hand
#
# Write `gae_by_hand(td, gamma, lmbda)`: the advantage of each step of a short stretch of
# experience `td` whose values are already in it: `td["state_value"]`,
# `td["next", "state_value"]`, `td["next", "reward"]`, and the flags
# `td["next", "terminated"]` and `td["next", "done"]` (shapes `[T, 1]`). Work backwards:
# δ_t = r_t + γ V(s_{t+1}) − V(s_t), and A_t = δ_t + γλ A_{t+1}. Two things to get right:
# after a *terminated* step there is no future value; after *any* episode end (done) the
# next step belongs to another episode. Here is a 5-step stretch where an episode
# terminates at step 2:

# %%
five = ex.five_steps()
print(five["next", "reward"].flatten().tolist(), five["next", "terminated"].flatten().tolist())


def gae_by_hand(td, gamma, lmbda):
    return None  # TODO: a [T, 1] tensor of advantages


# %%
ex.check_gae_by_hand(gae_by_hand)

# %% [markdown]
# ## Exercise 2: separate trunks
#
# Build `separate_agent`: the same actor and critic for Pendulum as **two networks** that
# share nothing (lesson 09's `ActorCriticWrapper`), each a Tanh MLP of two hidden layers
# of 64. Before you run the check, predict: after one optimizer step on the critic's
# term alone, does the greedy action change? Set `critic_step_moves_action` for your
# separate agent (and think about what it is for ours). The check measures both.

# %%
separate_agent = None  # TODO: ActorCriticWrapper(actor, critic)
critic_step_moves_action = None  # TODO: True or False, for separate_agent

# %%
ex.check_separate_agent(separate_agent, critic_step_moves_action, env=eval_env)

# %% [markdown]
# What separate networks do over a whole run is in the table of section 8 (the
# script's "separate networks" row, same budget and seeds).
#
# ## Exercise 3: the ratio PPO clips
#
# For each transition PPO compares the probability the policy gives the action *now*
# with the probability it gave it when the collector sampled it: the ratio
# π_new(a|s) / π_old(a|s). Write `ratios(td)` returning it for every transition of `td`.
# The old log-probability was recorded by the collector; the new one comes from the
# policy's distribution on the same observation. The check compares your ratios with the
# share of transitions `ClipPPOLoss` reports clipped (`clip_fraction`) at several ε, on
# the last batch of training.

# %%
def ratios(td):
    return None  # TODO: one ratio per transition


# %%
ex.check_ratios(ratios, loss_fn, batch)

# %% [markdown]
# Now change the clip ε and look at the ratios of the last batch (the best checkpoint
# against the policy that collected it). Inside the dashed lines a ratio moves the loss
# freely; outside them, the clipped objective stops rewarding a further move.

# %%
def plot_ratios(clip_epsilon=0.2):
    r = ex.probability_ratios(loss_fn.actor_network, batch)
    clipped = ex.clip_fraction(policy, value, batch, clip_epsilon)
    fig, ax = make_picture(figsize=(7, 2.8))
    ax.hist(r.numpy(), bins=60, color=PALETTE[4])
    for edge in (1 - clip_epsilon, 1 + clip_epsilon):
        ax.axvline(edge, ls="--", color=ROLES["target"])
    ax.set(xlabel="ratio π_new / π_old", ylabel="transitions",
           title=f"ε = {clip_epsilon}: ClipPPOLoss's clip_fraction {clipped:.0%}")
    return fig


rltutor.interact_figure(plot_ratios, clip_epsilon=widgets.Dropdown(options=[0.1, 0.2, 0.3]))

# %% [markdown]
# A small ε clips more transitions, so each batch moves the policy less: safer, slower.
# A large one lets a batch pull the policy far from the one that collected it, where the
# advantages were not measured.
#
# ## Recap
#
# - PPO trains lesson 03's `ProbabilisticActor` on lesson 09's shared trunk:
#   `ClipPPOLoss(agent.get_policy_operator(), agent.get_value_operator())`, with `GAE`.
# - One optimizer over `loss_fn.parameters()` steps the shared trunk once; both loss
#   terms reach it unless `separate_losses=True`.
# - The loop: a `Collector` over 8 vectorized envs, GAE over the whole batch, epochs of
#   minibatches from a one-batch `ReplayBuffer` with `SamplerWithoutReplacement`,
#   gradient clipping.
# - The collector samples (RANDOM); evaluation is greedy (DETERMINISTIC). The greedy
#   return was the higher one at every evaluation.
# - Normalise advantages, and scale the rewards, so that the critic's error does not
#   drown the policy's gradient in the shared trunk.
# - Pick the best checkpoint on selection episodes, report it on 20 held-out ones, and
#   look at several seeds: `benchmarks/bench_ppo.py` made the table above.
