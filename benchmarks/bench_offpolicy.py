"""Lesson 14's seed table: SAC and TD3 on Pendulum-v1, one budget, several seeds.

For each seed, both agents run the loop lesson 14 writes out (10 Pendulums stepped
together by a gymnasium ``SyncVectorEnv`` in one ``GymWrapper``, a ``Collector`` handing
over 10 frames at a time (one step of each), 1,000 random warm-up frames, one gradient
step per frame, batches of 256 from a ``ReplayBuffer``, ``SoftUpdate(tau=0.005)``):

- **SAC**: a ``TanhNormal`` ``ProbabilisticActor``, twin Q critics, ``SACLoss`` with its
  learned entropy coefficient (alpha);
- **TD3**: a deterministic actor (MLP + ``TanhModule``) followed by an
  ``AdditiveGaussianModule`` (sigma 0.2, fixed), twin Q critics, ``TD3Loss`` (target
  policy smoothing 0.2 clipped at 0.5), the actor updated every 2nd step.

Every 500 frames a ``BestCheckpoint`` evaluates the greedy actor on 5 *selection* episodes;
at the end the best checkpoint and the final weights are each reported on 20 *held-out*
episodes. The loop's frames per second (evaluation time left out) is compared with the
same SAC written directly on gymnasium + PyTorch, in the same run.

``python benchmarks/bench_offpolicy.py --write`` also writes ``offpolicy_results.json``
beside this file, which lesson 14 draws; ``make bench`` runs :func:`run` and says whether
the fresh numbers reproduce the committed file. Single-threaded and seeded throughout.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import format_table, row  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "offpolicy_results.json"
SEEDS = [int(s) for s in os.environ.get("BENCH_OFFPOLICY_SEEDS", "0,1,2").split(",")]
CONFIG = {
    "env": "Pendulum-v1",
    "num_envs": 10,
    "total_frames": 4_000,
    "frames_per_batch": 10,
    "warmup_frames": 1_000,
    "updates_per_frame": 1,
    "batch_size": 256,
    "buffer_size": 100_000,
    "lr": 1e-3,
    "gamma": 0.99,
    "tau": 0.005,
    "num_cells": [64, 64],
    "eval_every": 500,
    "selection_episodes": 5,
    "held_out_episodes": 20,
    "td3_sigma": 0.2,
    "td3_policy_noise": 0.2,
    "td3_noise_clip": 0.5,
    "td3_policy_delay": 2,
}
MILESTONE = -200.0  # Pendulum has no registry threshold: a milestone, not "solved"


def make_pendulums(num_envs: int, seed: int):
    """``num_envs`` Pendulums in one gymnasium ``SyncVectorEnv`` (its own autoreset off:
    TorchRL resets each done env itself), wrapped by ``GymWrapper``: lesson 14's
    ``make_pendulums``."""
    import gymnasium as gym
    from torchrl.envs import GymWrapper

    vector = gym.vector.SyncVectorEnv([lambda: gym.make(CONFIG["env"])] * num_envs,
                                      autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    env = GymWrapper(vector)
    env.set_seed(seed)
    return env


def build(agent: str, spec, seed: int) -> dict:
    """The actor, the collecting policy and the loss of ``agent`` ("SAC" or "TD3").

    Built in the order lesson 14 builds them, from the same seed, so the lesson's run and
    this script's run at that seed draw the same numbers.
    """
    import torch
    from tensordict.nn import NormalParamExtractor, TensorDictModule, TensorDictSequential
    from torch import nn
    from torchrl.modules import (
        MLP,
        AdditiveGaussianModule,
        ProbabilisticActor,
        TanhModule,
        TanhNormal,
        ValueOperator,
    )
    from torchrl.objectives import SACLoss, TD3Loss

    c = CONFIG
    torch.manual_seed(seed)
    if agent == "SAC":
        actor = ProbabilisticActor(
            TensorDictModule(nn.Sequential(MLP(in_features=3, out_features=2,
                                               num_cells=c["num_cells"]),
                                           NormalParamExtractor()),
                             in_keys=["observation"], out_keys=["loc", "scale"]),
            in_keys=["loc", "scale"], spec=spec, distribution_class=TanhNormal,
            distribution_kwargs={"low": spec.space.low, "high": spec.space.high},
            return_log_prob=True)
        critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=c["num_cells"]),
                               in_keys=["observation", "action"])
        collecting = actor
        loss_fn = SACLoss(actor, critic, num_qvalue_nets=2, action_spec=spec)
    else:
        actor = TensorDictSequential(
            TensorDictModule(MLP(in_features=3, out_features=1, num_cells=c["num_cells"]),
                             in_keys=["observation"], out_keys=["param"]),
            TanhModule(in_keys=["param"], out_keys=["action"], spec=spec))
        critic = ValueOperator(MLP(in_features=4, out_features=1, num_cells=c["num_cells"]),
                               in_keys=["observation", "action"])
        collecting = TensorDictSequential(actor, AdditiveGaussianModule(
            spec=spec, sigma_init=c["td3_sigma"], sigma_end=c["td3_sigma"]))
        loss_fn = TD3Loss(actor, critic, action_spec=spec, num_qvalue_nets=2,
                          policy_noise=c["td3_policy_noise"], noise_clip=c["td3_noise_clip"])
    loss_fn.make_value_estimator(gamma=c["gamma"])
    return {"actor": actor, "collecting": collecting, "loss_fn": loss_fn}


def train(agent: str, seed: int) -> dict:
    """One run of lesson 14's loop; its curves, best checkpoint and held-out returns."""
    import logging

    import torch
    from torchrl.collectors import Collector
    from torchrl.data import LazyTensorStorage, ReplayBuffer
    from torchrl.objectives import SoftUpdate

    import rltutor
    from rltutor.addons.offpolicy_probes import action_spread, pendulum_observations

    logging.getLogger("torchrl").setLevel(logging.WARNING)
    c = CONFIG
    eval_env = rltutor.make_env(c["env"], seed=seed)
    parts = build(agent, eval_env.action_spec, seed)
    actor, loss_fn, collecting = parts["actor"], parts["loss_fn"], parts["collecting"]
    target_updater = SoftUpdate(loss_fn, tau=c["tau"])
    optim = torch.optim.Adam(loss_fn.parameters(), lr=c["lr"])

    def update(sample, step: int) -> None:
        if agent == "SAC":
            out = loss_fn(sample)
            loss = out["loss_qvalue"] + out["loss_actor"] + out["loss_alpha"]
        else:
            loss, _ = loss_fn.value_loss(sample)
            if step % c["td3_policy_delay"] == 0:
                loss = loss + loss_fn.actor_loss(sample)[0]
        optim.zero_grad()
        loss.backward()
        optim.step()
        target_updater.step()

    best = rltutor.BestCheckpoint(actor, env=eval_env, episodes=c["selection_episodes"])
    probe = pendulum_observations(32)
    curve = {"frames": [], "selection": [], "spread": [], "alpha": []}
    collector = Collector(make_pendulums(c["num_envs"], seed=seed), collecting,
                          frames_per_batch=c["frames_per_batch"],
                          total_frames=c["total_frames"], init_random_frames=c["warmup_frames"],
                          auto_register_policy_transforms=False)
    buffer = ReplayBuffer(storage=LazyTensorStorage(c["buffer_size"]),
                          batch_size=c["batch_size"],
                          generator=torch.Generator().manual_seed(seed))
    frames, step, eval_seconds = 0, 0, 0.0
    start = time.perf_counter()
    for batch in collector:
        buffer.extend(batch.reshape(-1))
        frames += batch.numel()
        if frames >= c["warmup_frames"]:
            for _ in range(c["updates_per_frame"] * batch.numel()):
                update(buffer.sample(), step)
                step += 1
        if frames >= c["warmup_frames"] and frames % c["eval_every"] == 0:
            tick = time.perf_counter()
            curve["frames"].append(frames)
            curve["selection"].append(best.consider(frames=frames))
            curve["spread"].append(action_spread(collecting, probe))
            if agent == "SAC":
                curve["alpha"].append(loss_fn.log_alpha.exp().item())
            eval_seconds += time.perf_counter() - tick
    seconds = time.perf_counter() - start
    collector.shutdown()
    final = rltutor.held_out(eval_env, actor, episodes=c["held_out_episodes"])
    best.load_best()
    at_best = rltutor.held_out(eval_env, actor, episodes=c["held_out_episodes"])
    return {
        "agent": agent, "seed": seed, **curve,
        "best_frames": best.best_frames, "best_selection": best.best_return,
        "held_out_best": {"mean": at_best.mean, "min": at_best.min},
        "held_out_final": {"mean": final.mean, "min": final.min},
        "frames_total": frames, "seconds": seconds,
        "loop_frames_per_s": frames / (seconds - eval_seconds),
    }


def plain_sac(seed: int = 0) -> dict:
    """The same SAC on gymnasium + PyTorch directly (cleanrl's way), over the same number
    of envs in one ``SyncVectorEnv``: frames/s, and the greedy return at the end."""
    import gymnasium as gym
    import numpy as np
    import torch
    from torch import nn

    c = CONFIG
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(c["env"])] * c["num_envs"],
                                    autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def mlp(n_in: int, n_out: int) -> nn.Sequential:
        return nn.Sequential(nn.Linear(n_in, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                             nn.Linear(64, n_out))

    actor, q1, q2 = mlp(3, 2), mlp(4, 1), mlp(4, 1)
    q1_target, q2_target = mlp(4, 1), mlp(4, 1)
    q1_target.load_state_dict(q1.state_dict())
    q2_target.load_state_dict(q2.state_dict())
    log_alpha = torch.zeros(1, requires_grad=True)
    actor_optim = torch.optim.Adam(actor.parameters(), lr=c["lr"])
    critic_optim = torch.optim.Adam([*q1.parameters(), *q2.parameters()], lr=c["lr"])
    alpha_optim = torch.optim.Adam([log_alpha], lr=c["lr"])
    bias = math.log(math.e - 1)  # NormalParamExtractor's biased softplus: raw 0 -> scale 1

    def act(obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        loc, raw = actor(obs).chunk(2, -1)
        scale = nn.functional.softplus(raw + bias).clamp_min(1e-4)
        u = loc + scale * torch.randn_like(loc)
        log_prob = (torch.distributions.Normal(loc, scale).log_prob(u)
                    - torch.log(2 * (1 - torch.tanh(u).pow(2)) + 1e-6)).sum(-1)
        return 2 * torch.tanh(u), log_prob

    size, n, width = c["buffer_size"], c["total_frames"], c["num_envs"]
    obs_buf, next_buf = np.zeros((size, 3), np.float32), np.zeros((size, 3), np.float32)
    act_buf, rew_buf = np.zeros((size, 1), np.float32), np.zeros(size, np.float32)
    term_buf = np.zeros(size, np.float32)
    obs, _ = envs.reset(seed=seed)
    start = time.perf_counter()
    for frame in range(width, n + 1, width):  # one step of every env: `width` frames
        if frame <= c["warmup_frames"]:
            action = rng.uniform(-2, 2, size=(width, 1)).astype(np.float32)
        else:
            with torch.no_grad():
                action = act(torch.from_numpy(obs))[0].numpy()
        next_obs, reward, terminated, truncated, _ = envs.step(action)
        rows = np.arange(frame - width, frame) % size
        obs_buf[rows], next_buf[rows], act_buf[rows] = obs, next_obs, action
        rew_buf[rows], term_buf[rows] = reward, terminated
        done = terminated | truncated
        if done.any():  # gymnasium's autoreset is off, as in the TorchRL run
            fresh, _ = envs.reset(options={"reset_mask": done})
            next_obs = np.where(done[:, None], fresh, next_obs)
        obs = next_obs
        if frame % c["frames_per_batch"] or frame < c["warmup_frames"]:
            continue
        for _ in range(c["updates_per_frame"] * c["frames_per_batch"]):
            idx = rng.integers(0, min(frame, size), c["batch_size"])
            o, a = torch.from_numpy(obs_buf[idx]), torch.from_numpy(act_buf[idx])
            o2, r = torch.from_numpy(next_buf[idx]), torch.from_numpy(rew_buf[idx])
            alpha = log_alpha.exp().detach()
            with torch.no_grad():
                a2, logp2 = act(o2)
                q_next = torch.min(q1_target(torch.cat([o2, a2], -1)),
                                   q2_target(torch.cat([o2, a2], -1))).squeeze(-1)
                target = r + c["gamma"] * (1 - torch.from_numpy(term_buf[idx])) * (
                    q_next - alpha * logp2)
            oa = torch.cat([o, a], -1)
            q_loss = sum(nn.functional.smooth_l1_loss(q(oa).squeeze(-1), target)
                         for q in (q1, q2))
            critic_optim.zero_grad()
            q_loss.backward()
            critic_optim.step()
            new_a, logp = act(o)  # the actor's step sees the critics as they are now
            oa_new = torch.cat([o, new_a], -1)
            actor_loss = (alpha * logp - torch.min(q1(oa_new), q2(oa_new)).squeeze(-1)).mean()
            actor_optim.zero_grad()
            actor_loss.backward()  # (the critics' grads it leaves are zeroed before use)
            actor_optim.step()
            alpha_loss = -(log_alpha * (logp.detach() - 1.0)).mean()  # target entropy -1
            alpha_optim.zero_grad()
            alpha_loss.backward()
            alpha_optim.step()
            with torch.no_grad():
                for net, tnet in ((q1, q1_target), (q2, q2_target)):
                    for p, tp in zip(net.parameters(), tnet.parameters(), strict=True):
                        tp.lerp_(p, c["tau"])
    seconds = time.perf_counter() - start
    envs.close()
    env, returns = gym.make(c["env"]), []
    for episode in range(5):  # a sanity check that this twin learns too (greedy)
        obs, _ = env.reset(seed=1_000 + episode)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                loc = actor(torch.from_numpy(obs)).chunk(2, -1)[0]
            obs, reward, terminated, truncated, _ = env.step((2 * torch.tanh(loc)).numpy())
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    env.close()
    return {"seconds": seconds, "frames_per_s": n / seconds,
            "greedy_return": statistics.fmean(returns)}


def collect(seeds: list[int] = SEEDS) -> dict:
    """Every run of the seed table (what ``--write`` saves), as one JSON-ready dict."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = [train(agent, seed) for seed in seeds for agent in ("SAC", "TD3")]
    finally:
        torch.set_num_threads(threads)
    return {"config": CONFIG, "seeds": seeds, "runs": runs}


def plain(seed: int = 0) -> dict:
    """:func:`plain_sac`, single-threaded like the TorchRL runs."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return plain_sac(seed)
    finally:
        torch.set_num_threads(threads)


def seed_table(results: dict) -> str:
    """The per-seed final held-out returns, as printed by ``make bench``."""
    lines = ["agent  seed  best at  held-out mean (min), best ckpt  held-out mean (min), final"
             "  frames  seconds"]
    for r in results["runs"]:
        b, f = r["held_out_best"], r["held_out_final"]
        lines.append(f"{r['agent']:<5} {r['seed']:>5} {r['best_frames']:>8,} "
                     f"{b['mean']:>12.1f} ({b['min']:7.1f}) {f['mean']:>17.1f} ({f['min']:7.1f})"
                     f" {r['frames_total']:>8,} {r['seconds']:>8.1f}")
    for agent in ("SAC", "TD3"):
        for key in ("held_out_best", "held_out_final"):
            means = [r[key]["mean"] for r in results["runs"] if r["agent"] == agent]
            spread = statistics.stdev(means) if len(means) > 1 else 0.0
            lines.append(f"{agent} {key}: {statistics.fmean(means):.1f} ± {spread:.1f} "
                         f"over {len(means)} seeds")
    return "\n".join(lines)


def rows_from(results: dict, twin: dict) -> list[dict]:
    """The summary table's rows for ``results`` (from :func:`collect`) and the plain
    twin's ``twin`` (from :func:`plain`), measured in the same run."""
    rows = []
    for agent in ("SAC", "TD3"):
        runs = [r for r in results["runs"] if r["agent"] == agent]
        means = [r["held_out_best"]["mean"] for r in runs]
        spread = statistics.stdev(means) if len(means) > 1 else 0.0
        rows.append(row(f"offpolicy: {agent} held-out mean of best ckpt, {len(runs)} seeds "
                        f"(± {spread:.0f})", statistics.fmean(means), unit="",
                        target=">= -200 (milestone)" if agent == "SAC" else ""))
        rows.append(row(f"offpolicy: {agent} {CONFIG['total_frames']:,} frames, seconds per seed",
                        statistics.median(r["seconds"] for r in runs), unit="s"))
    sac = statistics.median(r["loop_frames_per_s"] for r in results["runs"]
                            if r["agent"] == "SAC")
    rows.append(row("offpolicy frames/s: lesson 14's SAC loop (evaluations left out)", sac,
                    twin["frames_per_s"], unit="frames/s",
                    baseline_name="(gymnasium + PyTorch SAC)"))
    if RESULTS.exists():
        committed = json.loads(RESULTS.read_text())
        same = committed["config"] == CONFIG and committed["seeds"] == results["seeds"]
        gaps = [abs(a["held_out_best"]["mean"] - b["held_out_best"]["mean"])
                for a, b in zip(committed["runs"], results["runs"], strict=True)] if same else []
        rows.append(row("offpolicy: largest gap to the committed offpolicy_results.json",
                        max(gaps) if gaps else None, unit="", target="0 on this machine"))
    return rows


def run() -> list[dict]:
    """``make bench``: prints the seed table (to stderr), returns the summary rows."""
    results = collect()
    print(seed_table(results), file=sys.stderr)
    return rows_from(results, plain(results["seeds"][0]))


def main(argv: list[str]) -> int:
    if "--plain" in argv:  # the twin alone: does it learn, how fast is it
        print(plain(SEEDS[0]))
        return 0
    results = collect()
    print(seed_table(results))
    twin = plain(results["seeds"][0])
    print(f"plain gymnasium + PyTorch SAC's greedy return (5 episodes): "
          f"{twin['greedy_return']:.0f}\n")
    print(format_table(rows_from(results, twin)))
    if "--write" in argv:
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
