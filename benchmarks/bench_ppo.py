"""Lesson 13's PPO on Pendulum-v1 across seeds, and its frames/s against plain PyTorch.

What it runs, each seeded and single-threaded (``torch.set_num_threads(1)``) like the lesson:

- **the lesson's configuration** (``CONFIG``: lesson 09's shared-trunk ``ActorValueOperator``,
  ``ClipPPOLoss`` + ``GAE``, a ``Collector`` over 8 vectorized Pendulums) on ``SEEDS``. Every
  ``eval_every`` frames a ``BestCheckpoint`` evaluates the greedy policy on 5 selection
  episodes (seeds 1,000-1,004); at the end the best checkpoint is reported on 20 held-out
  episodes (seeds 10,000-10,019). This is the seed table.
- **variants** (``VARIANTS``) the lesson shows beside it, on the same seeds: separate actor
  and critic networks, no reward scaling, no advantage normalisation.
- **the same PPO written directly on gymnasium and PyTorch** (numpy rollouts over a
  ``SyncVectorEnv``, GAE by hand, ``nn.Sequential`` networks of the same shapes, the same
  schedule), and the lesson's TorchRL loop without evaluations: the frames/s ratio.

``python benchmarks/bench_ppo.py --write`` runs everything and writes ``RESULTS`` (the JSON
the lesson draws its seed table and curves from; ``tests/test_lesson13_claims.py`` checks
that it matches ``CONFIG``). ``make bench`` calls :func:`run`: the lesson's configuration
on the seeds plus the frames/s ratio, and whether the seed table reproduced the committed
file's numbers.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import row  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "ppo_results.json"
SEEDS = (0, 1, 2)
CONFIG = {
    "env": "Pendulum-v1",
    "num_envs": 8,             # gymnasium SyncVectorEnv, wrapped by GymWrapper
    "frames_per_batch": 2048,  # 256 steps of each of the 8 envs
    "total_frames": 40_960,    # 20 batches
    "epochs": 10,              # passes over each batch
    "minibatch": 256,
    "lr": 1e-3,
    "clip_epsilon": 0.2,
    "gamma": 0.9,
    "lmbda": 0.95,
    "critic_coeff": 0.5,
    "max_grad_norm": 0.5,
    "reward_scale": 0.1,       # RewardScaling on the collector's env only
    "hidden": 64,
    "shared_trunk": True,
    "normalize_advantage": True,
    "eval_every": 4096,
    "selection_episodes": 5,
    "selection_seed": 1_000,
    "held_out_episodes": 20,
    "held_out_seed": 10_000,
}
VARIANTS = {
    "separate networks": {"shared_trunk": False},
    "no reward scaling": {"reward_scale": 1.0},
    "no advantage normalisation": {"normalize_advantage": False},
}


def make_agent(spec, *, hidden: int, shared_trunk: bool):
    """Lesson 13's agent: a TanhNormal actor and a value head, sharing a trunk or not."""
    from tensordict.nn import NormalParamExtractor, TensorDictModule
    from torch import nn
    from torchrl.modules import (
        MLP,
        ActorCriticWrapper,
        ActorValueOperator,
        ProbabilisticActor,
        TanhNormal,
        ValueOperator,
    )

    def actor(net, key):
        return ProbabilisticActor(
            TensorDictModule(nn.Sequential(net, NormalParamExtractor()), in_keys=[key],
                             out_keys=["loc", "scale"]),
            in_keys=["loc", "scale"], spec=spec, distribution_class=TanhNormal,
            distribution_kwargs={"low": -2.0, "high": 2.0}, return_log_prob=True)

    if shared_trunk:
        trunk = TensorDictModule(
            MLP(in_features=3, out_features=hidden, num_cells=[hidden],
                activation_class=nn.Tanh, activate_last_layer=True),
            in_keys=["observation"], out_keys=["hidden"])
        return ActorValueOperator(trunk, actor(nn.Linear(hidden, 2), "hidden"),
                                  ValueOperator(nn.Linear(hidden, 1), in_keys=["hidden"]))
    body = lambda out: MLP(in_features=3, out_features=out, num_cells=[hidden, hidden],  # noqa: E731
                           activation_class=nn.Tanh)
    return ActorCriticWrapper(actor(body(2), "observation"),
                              ValueOperator(body(1), in_keys=["observation"]))


def make_train_env(config: dict, seed: int):
    """8 Pendulums stepped together by gymnasium, rewards scaled for the critic."""
    import gymnasium as gym
    from torchrl.envs import GymWrapper, RewardScaling, TransformedEnv

    vector = gym.vector.SyncVectorEnv(
        [lambda: gym.make(config["env"])] * config["num_envs"],
        autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    env = TransformedEnv(GymWrapper(vector),
                         RewardScaling(loc=0.0, scale=config["reward_scale"]))
    env.set_seed(seed)
    return env


def train(config: dict, seed: int, *, evaluate: bool = True) -> dict:
    """Lesson 13's loop as one function: curves, best checkpoint, held-out report, timing."""
    import logging

    import torch

    torch.set_num_threads(1)
    from torch import nn
    from torchrl.collectors import Collector
    from torchrl.data import LazyTensorStorage, ReplayBuffer, SamplerWithoutReplacement
    from torchrl.objectives import ClipPPOLoss
    from torchrl.objectives.value import GAE

    import rltutor

    logging.getLogger("torchrl").setLevel(logging.WARNING)
    train_env = make_train_env(config, seed)
    eval_env = rltutor.make_env(config["env"], seed=seed)
    torch.manual_seed(seed)
    agent = make_agent(train_env.action_spec_unbatched, hidden=config["hidden"],
                       shared_trunk=config["shared_trunk"])
    policy, value = agent.get_policy_operator(), agent.get_value_operator()
    collector = Collector(train_env, policy, frames_per_batch=config["frames_per_batch"],
                          total_frames=config["total_frames"],
                          auto_register_policy_transforms=False)
    buffer = ReplayBuffer(storage=LazyTensorStorage(config["frames_per_batch"]),
                          sampler=SamplerWithoutReplacement(), batch_size=config["minibatch"],
                          generator=torch.Generator().manual_seed(seed))
    advantage = GAE(gamma=config["gamma"], lmbda=config["lmbda"], value_network=value)
    loss_fn = ClipPPOLoss(policy, value, clip_epsilon=config["clip_epsilon"],
                          entropy_bonus=False, critic_coeff=config["critic_coeff"],
                          loss_critic_type="l2",
                          normalize_advantage=config["normalize_advantage"])
    optimizer = torch.optim.Adam(loss_fn.parameters(), lr=config["lr"])
    best = rltutor.BestCheckpoint(agent, env=eval_env, episodes=config["selection_episodes"],
                                  seed=config["selection_seed"]) if evaluate else None
    sampled = []  # the collector's own (RANDOM) return per 200 steps, unscaled
    start, cpu = time.perf_counter(), time.process_time()
    frames = 0
    for batch in collector:
        frames += batch.numel()
        sampled.append(float(batch["next", "reward"].mean()) * 200 / config["reward_scale"])
        with torch.no_grad():
            advantage(batch)
        buffer.extend(batch.reshape(-1))
        for _ in range(config["epochs"]):
            for minibatch in buffer:
                losses = loss_fn(minibatch)
                loss = losses["loss_objective"] + losses["loss_critic"]
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(loss_fn.parameters(), config["max_grad_norm"])
                optimizer.step()
        if best is not None and frames % config["eval_every"] == 0:
            best.consider(frames=frames)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    collector.shutdown()
    result = {"seed": seed, "frames": frames, "seconds": round(seconds, 2),
              "cpu_seconds": round(cpu, 2), "frames_per_s": round(frames / seconds, 1),
              "sampled_return": [round(r, 2) for r in sampled]}
    if best is not None:
        best.load_best()
        report = rltutor.held_out(eval_env, policy, episodes=config["held_out_episodes"],
                                  seed=config["held_out_seed"])
        result.update({
            "eval_frames": [f for f, _ in best.history],
            "greedy_return": [round(r, 2) for _, r in best.history],
            "best_selection_return": round(best.best_return, 2),
            "best_frames": best.best_frames,
            "held_out_returns": [round(r, 2) for r in report.returns],
            "held_out_mean": round(report.mean, 2),
            "held_out_min": round(report.min, 2),
        })
    return result


def plain_loop(config: dict, seed: int = 0) -> dict:
    """The same PPO on gymnasium + PyTorch directly (cleanrl's way). Returns seconds, frames.

    Same networks (Tanh MLPs, a TanhNormal through ``torch.distributions``), the same
    schedule, GAE written by hand; no evaluations (like ``train(evaluate=False)``).
    """
    import gymnasium as gym
    import torch
    from torch import distributions as D
    from torch import nn

    n, steps = config["num_envs"], config["frames_per_batch"] // config["num_envs"]
    hidden, gamma, lmbda = config["hidden"], config["gamma"], config["lmbda"]
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(config["env"])] * n,
                                    autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    torch.manual_seed(seed)
    trunk = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
    policy_head, value_head = nn.Linear(hidden, 2), nn.Linear(hidden, 1)
    params = [*trunk.parameters(), *policy_head.parameters(), *value_head.parameters()]
    optimizer = torch.optim.Adam(params, lr=config["lr"])
    rng = torch.Generator().manual_seed(seed)

    def dist(obs):
        loc, raw = policy_head(trunk(obs)).chunk(2, -1)
        scale = nn.functional.softplus(raw + 0.5413).clamp_min(1e-4)  # biased softplus
        base = D.Normal(loc, scale)
        return D.TransformedDistribution(base, [D.TanhTransform(cache_size=1),
                                                D.AffineTransform(0.0, 2.0)])

    obs_buf = torch.zeros(steps, n, 3)
    next_obs_buf, act_buf = torch.zeros(steps, n, 3), torch.zeros(steps, n, 1)
    logp_buf, rew_buf, done_buf = (torch.zeros(steps, n) for _ in range(3))
    obs = torch.as_tensor(envs.reset(seed=seed)[0], dtype=torch.float32)
    start, frames = time.perf_counter(), 0
    while frames < config["total_frames"]:
        with torch.no_grad():
            for t in range(steps):
                d = dist(obs)
                action = d.sample().clamp(-2 + 1e-6, 2 - 1e-6)
                next_obs, reward, term, trunc, _ = envs.step(action.numpy())
                next_obs = torch.as_tensor(next_obs, dtype=torch.float32)
                obs_buf[t], next_obs_buf[t], act_buf[t] = obs, next_obs, action
                logp_buf[t] = d.log_prob(action).sum(-1)
                rew_buf[t] = torch.as_tensor(reward) * config["reward_scale"]
                done_buf[t] = torch.as_tensor(term | trunc, dtype=torch.float32)
                obs = (torch.as_tensor(envs.reset()[0], dtype=torch.float32)
                       if (term | trunc).any() else next_obs)
            values = value_head(trunk(obs_buf)).squeeze(-1)
            next_values = value_head(trunk(next_obs_buf)).squeeze(-1)  # Pendulum never terminates
            delta = rew_buf + gamma * next_values - values
            adv, running = torch.zeros_like(delta), torch.zeros(n)
            for t in reversed(range(steps)):
                running = delta[t] + gamma * lmbda * (1 - done_buf[t]) * running
                adv[t] = running
            returns = adv + values
        frames += steps * n
        flat = [x.reshape(steps * n, *x.shape[2:]) for x in
                (obs_buf, act_buf, logp_buf, adv, returns)]
        for _ in range(config["epochs"]):
            order = torch.randperm(steps * n, generator=rng)
            for idx in order.split(config["minibatch"]):
                b_obs, b_act, b_logp, b_adv, b_ret = (x[idx] for x in flat)
                if config["normalize_advantage"]:
                    b_adv = (b_adv - b_adv.mean()) / (b_adv.std() + 1e-8)
                ratio = (dist(b_obs).log_prob(b_act).sum(-1) - b_logp).exp()
                eps = config["clip_epsilon"]
                objective = -torch.min(ratio * b_adv, ratio.clamp(1 - eps, 1 + eps) * b_adv)
                critic = (value_head(trunk(b_obs)).squeeze(-1) - b_ret).pow(2)
                loss = objective.mean() + config["critic_coeff"] * critic.mean()
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, config["max_grad_norm"])
                optimizer.step()
    seconds = time.perf_counter() - start
    envs.close()
    return {"seconds": seconds, "frames": frames}


def seed_table(results: list[dict]) -> list[dict]:
    """Table rows: each seed's held-out mean, then mean ± std, frames and seconds."""
    rows = []
    for r in results:
        rows.append(row(f"ppo Pendulum seed {r['seed']}: held-out mean of 20 (min "
                        f"{r['held_out_min']:.0f}), best at {r['best_frames']:,} frames",
                        r["held_out_mean"], unit="", target=">= -200 (milestone)"))
    means = [r["held_out_mean"] for r in results]
    std = statistics.stdev(means) if len(means) > 1 else 0.0
    rows.append(row(f"ppo Pendulum, {len(results)} seeds: held-out mean (± {std:.0f} std)",
                    statistics.fmean(means), unit="", target=">= -200 (milestone)"))
    cpu = statistics.median(r["cpu_seconds"] for r in results)
    rows.append(row(f"ppo Pendulum: seconds per run ({results[0]['frames']:,} frames, with "
                    f"evaluations; {cpu:.0f} s of CPU)",
                    statistics.median(r["seconds"] for r in results), unit="s"))
    return rows


PARTS = RESULTS.parent / "results" / "ppo_pendulum_parts"  # one file per run (ignored by git)


def _train_job(job: tuple[str, dict, int]) -> dict:
    """One run of ``write_results``, kept on disk as soon as it ends (a rerun reuses it
    while its config is the same)."""
    name, config, seed = job
    part = PARTS / f"{name.replace(' ', '_')}-{seed}.json"
    if part.exists():
        kept = json.loads(part.read_text())
        if kept["config"] == config:
            return kept["result"]
    result = train(config, seed)
    PARTS.mkdir(parents=True, exist_ok=True)
    part.write_text(json.dumps({"config": config, "result": result}))
    return result


def write_results(*, jobs: int = 1) -> dict:
    """Run the seed table and the variants (``jobs`` runs at a time); write ``RESULTS``.

    Every run is seeded and single-threaded, so its numbers do not depend on ``jobs``;
    only its seconds do (parallel runs share the cores: read ``cpu_seconds`` then).
    """
    import multiprocessing

    import torch

    configs = {"lesson": CONFIG} | {name: {**CONFIG, **change}
                                    for name, change in VARIANTS.items()}
    todo = [(name, config, seed) for name, config in configs.items() for seed in SEEDS]
    load = os.getloadavg()[0]
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        done = iter(pool.map(_train_job, todo, chunksize=1))
    out = {"config": CONFIG, "seeds": list(SEEDS), "variants": VARIANTS,
           "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}, load average "
                      f"{load:.1f} when written (runs kept from earlier --write calls are "
                      "reused; their seconds depend on the load then, cpu_seconds less so)",
           "runs": {name: [next(done) for _ in SEEDS] for name in configs}}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    return out


def run() -> list[dict]:
    """``make bench``: the seed table and the frames/s ratio, and a re-check of ``RESULTS``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = [train(CONFIG, seed) for seed in SEEDS]
        bare = train(CONFIG, 0, evaluate=False)
        plain = plain_loop(CONFIG, 0)
    finally:
        torch.set_num_threads(threads)
    rows = seed_table(results)
    rows.append(row("training frames/s: lesson 13's TorchRL PPO loop (no evals)",
                    bare["frames_per_s"], plain["frames"] / plain["seconds"],
                    unit="frames/s", baseline_name="(gymnasium + PyTorch, cleanrl way)"))
    committed = json.loads(RESULTS.read_text())["runs"]["lesson"] if RESULTS.exists() else []
    same = [c["held_out_returns"] for c in committed] == [r["held_out_returns"] for r in results]
    rows.append(row(f"ppo Pendulum: held-out returns equal {RESULTS.name}'s (1 = yes)",
                    float(same), unit="", target="1"))
    return rows


if __name__ == "__main__":
    from _table import format_table

    if "--write" in sys.argv:
        written = write_results(jobs=int(os.environ.get("BENCH_JOBS", "1")))
        print(format_table(seed_table(written["runs"]["lesson"])))
    else:
        print(format_table(run()))
