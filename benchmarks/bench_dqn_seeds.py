"""Lesson 11's DQN run, once per seed: what it reaches across seeds, not at the one shown.

The lesson trains with seed 0. One seed is the classic way to fool yourself in RL, so
this script runs the lesson's loop unchanged (TorchRL ``Collector`` over 10 CartPoles in
one ``GymWrapper(SyncVectorEnv)``, ``ReplayBuffer``,
``DQNLoss`` + ``SoftUpdate(tau=0.01)``, Adam; 10,000 frames, 1,000 random ones first,
5 updates of 128 per 10 frames) with each of the seeds 0-9 in place of 0 (torch, both
environments, the buffer's generator), and prints one row per seed:

- the best mean greedy return on the 5 *selection* episodes (seeds 1,000-1,004, checked
  every 1,000 frames by ``rltutor.BestCheckpoint``) and when it was reached;
- the selection return at the end of the run;
- the best checkpoint on 20 *held-out* episodes (seeds 10,000-10,019, ``rltutor.held_out``):
  mean and min, the honest number;
- CartPole-v1's registry threshold (``rltutor.reward_threshold``) for comparison.

Run alone: ``python benchmarks/bench_dqn_seeds.py`` (about 30 s per seed on one idle
core; ``SEEDS=0,1`` picks seeds); ``--write`` also saves the table as
``benchmarks/dqn_seeds.txt``, the record that lesson 11 quotes and its claims test reads.
``run()`` returns the usual benchmark rows (means over the seeds) for ``make bench``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import row  # noqa: E402

TOTAL_FRAMES = 10_000
FRAMES_PER_BATCH = 10
WARMUP_FRAMES = 1_000
UPDATES_PER_BATCH = 5
BATCH_SIZE = 128
EVAL_EVERY = 1_000
NUM_ENVS = 10  # one step of each env per batch of 10 frames
SEEDS = tuple(range(10))


def make_cartpoles(seed: int, num_envs: int = NUM_ENVS):
    """Lesson 11's training env: ``num_envs`` CartPoles stepped by one gymnasium
    ``SyncVectorEnv`` (its own autoreset off: TorchRL resets each done env itself),
    wrapped by ``GymWrapper`` into one TorchRL env of batch size ``[num_envs]``."""
    import gymnasium as gym
    from torchrl.envs import GymWrapper

    vector = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * num_envs,
                                      autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    env = GymWrapper(vector)
    env.set_seed(seed)
    return env


def build_dqn(seed: int) -> SimpleNamespace:
    """Lesson 11's parts, with ``seed`` wherever the lesson uses 0 (bench_training's too)."""
    import logging

    import torch
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.collectors import Collector
    from torchrl.data import LazyTensorStorage, ReplayBuffer
    from torchrl.modules import MLP, EGreedyModule, QValueModule
    from torchrl.objectives import DQNLoss, SoftUpdate

    import rltutor

    torch.set_num_threads(1)
    logging.getLogger("torchrl").setLevel(logging.WARNING)
    train_env = make_cartpoles(seed)
    eval_env = rltutor.make_env("CartPole-v1", seed=seed)
    spec = train_env.action_spec_unbatched  # one CartPole's: as the lesson builds it
    torch.manual_seed(seed)
    value_net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[64, 64]),
                                 in_keys=["observation"], out_keys=["action_value"])
    policy = TensorDictSequential(value_net, QValueModule(spec=spec))
    egreedy = EGreedyModule(spec=spec, eps_init=1.0, eps_end=0.05,
                            annealing_num_steps=TOTAL_FRAMES)
    collector = Collector(train_env, TensorDictSequential(policy, egreedy),
                          frames_per_batch=FRAMES_PER_BATCH, total_frames=TOTAL_FRAMES,
                          init_random_frames=WARMUP_FRAMES,
                          auto_register_policy_transforms=False)
    buffer = ReplayBuffer(storage=LazyTensorStorage(20_000), batch_size=BATCH_SIZE,
                          generator=torch.Generator().manual_seed(seed))
    loss_fn = DQNLoss(policy, action_space=spec, delay_value=True)
    loss_fn.make_value_estimator(gamma=0.99)
    return SimpleNamespace(
        eval_env=eval_env, policy=policy, egreedy=egreedy, collector=collector, buffer=buffer,
        loss_fn=loss_fn, target_updater=SoftUpdate(loss_fn, tau=0.01),
        optimizer=torch.optim.Adam(loss_fn.parameters(), lr=2.5e-3),
        checkpoint=rltutor.BestCheckpoint(policy, env=eval_env, episodes=5))


def dqn_run(seed: int) -> dict:
    """Lesson 11's sections 1-6 with ``seed`` everywhere the lesson uses 0."""
    import rltutor

    parts = build_dqn(seed)
    collector, buffer, egreedy, loss_fn = (parts.collector, parts.buffer, parts.egreedy,
                                           parts.loss_fn)
    optimizer, target_updater, checkpoint = (parts.optimizer, parts.target_updater,
                                             parts.checkpoint)
    eval_env, policy = parts.eval_env, parts.policy
    start = time.perf_counter()
    frames = 0
    for batch in collector:
        buffer.extend(batch.reshape(-1))
        frames += batch.numel()
        egreedy.step(batch.numel())
        if frames >= WARMUP_FRAMES:
            for _ in range(UPDATES_PER_BATCH):
                loss = loss_fn(buffer.sample())["loss"]
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                target_updater.step()
        if frames % EVAL_EVERY == 0:
            checkpoint.consider(frames=frames)
    collector.shutdown()
    final = checkpoint.history[-1][1]
    last = rltutor.held_out(eval_env, policy)
    best = rltutor.held_out(eval_env, checkpoint.load_best())
    return {"seed": seed, "best": checkpoint.best_return, "best_frames": checkpoint.best_frames,
            "final": final, "held_mean": best.mean, "held_min": best.min,
            "last_held_mean": last.mean, "seconds": time.perf_counter() - start}


def seed_table(runs: list[dict]) -> str:
    """The per-seed table the lesson quotes, with the registry's threshold below it."""
    import rltutor

    lines = [" seed | best on selection (frames) | at the end | best checkpoint, 20 held-out: "
             "mean   min | last weights, held-out mean",
             "------+----------------------------+------------+-------------------------------"
             "-----------+---------------------------"]
    for r in runs:
        lines.append(f" {r['seed']:>4} | {r['best']:>8.1f} ({r['best_frames']:>6,})        | "
                     f"{r['final']:>10.1f} | {r['held_mean']:>37.1f} {r['held_min']:>5.0f} | "
                     f"{r['last_held_mean']:>12.1f}")
    threshold = rltutor.reward_threshold("CartPole-v1")
    held = [r["held_mean"] for r in runs]
    lines.append(f"held-out mean of the best checkpoint: {min(held):.1f} to {max(held):.1f} "
                 f"(median {statistics.median(held):.1f}); CartPole-v1's registry threshold: "
                 f"{threshold:g}; seeds at or above it: "
                 f"{sum(h >= threshold for h in held)} of {len(held)}")
    return "\n".join(lines)


def _seeds() -> tuple[int, ...]:
    chosen = os.environ.get("SEEDS", "")
    return tuple(int(s) for s in chosen.split(",") if s) or SEEDS


def run() -> list[dict]:
    """Benchmark rows for ``make bench``: the per-seed table goes to stderr."""
    runs = [dqn_run(seed) for seed in _seeds()]
    print(seed_table(runs), file=sys.stderr)
    mean = lambda key: statistics.fmean(r[key] for r in runs)  # noqa: E731
    return [
        row("lesson 11 DQN: best selection return, mean over seeds", mean("best"), unit="return"),
        row("lesson 11 DQN: best checkpoint, held-out mean over seeds", mean("held_mean"),
            unit="return"),
        row("lesson 11 DQN: best checkpoint, held-out min over seeds",
            min(r["held_min"] for r in runs), unit="return"),
        row("lesson 11 DQN: seconds per run", mean("seconds"), unit="s"),
    ]


if __name__ == "__main__":
    runs = []
    for seed in _seeds():
        runs.append(dqn_run(seed))
        print(f"seed {seed} done in {runs[-1]['seconds']:.0f} s: {runs[-1]}", file=sys.stderr,
              flush=True)
    table = seed_table(runs)
    print(table)
    if "--write" in sys.argv[1:]:  # the record lesson 11's claims test reads
        (Path(__file__).resolve().parent / "dqn_seeds.txt").write_text(table + "\n")
