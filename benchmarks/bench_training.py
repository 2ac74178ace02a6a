"""Lesson 11's DQN loop: its wall time, its frames/s against plain PyTorch, the monitor's share.

Three runs take turns in each round, so a noisy minute on a shared machine slows all alike:

- **the lesson's loop** as lesson 11 writes it (TorchRL ``Collector`` over 10 CartPoles in
  one ``GymWrapper(SyncVectorEnv)``, ``ReplayBuffer`` over ``LazyTensorStorage``,
  ``DQNLoss`` + ``SoftUpdate``, Adam; 10,000 frames, 1,000
  random ones first, 5 updates of 128 per 10 frames, a 5-episode greedy evaluation every
  1,000 frames) with a live ``TrainingMonitor``. Its wall time is the issue's "under 30 s"
  (target on the 2-core CI machine), and ``monitor.seconds`` over that time is the
  monitor's share (target < 5 %);
- **the same loop without evaluations or monitor**: training frames/s through TorchRL;
- **the same DQN written directly on gymnasium and PyTorch**, the cleanrl way, on the same
  10 CartPoles in one ``SyncVectorEnv``: a numpy replay buffer, an ``nn.Sequential`` of
  the same shape (Tanh, 64-64), a target copy updated with ``lerp_``, the same schedule,
  updates per frame and hyperparameters: the baseline frames/s.

Every run is seeded and single-threaded (``torch.set_num_threads(1)``), like the lesson.
Run alone: ``python benchmarks/bench_training.py``; ``make bench`` folds it in.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import format_table, row  # noqa: E402
from bench_dqn_seeds import (  # noqa: E402  (one schedule for both benchmarks)
    BATCH_SIZE,
    EVAL_EVERY,
    FRAMES_PER_BATCH,
    NUM_ENVS,
    TOTAL_FRAMES,
    UPDATES_PER_BATCH,
    WARMUP_FRAMES,
)

ROUNDS = 3


def lesson_loop(*, evaluate_and_monitor: bool, seed: int = 0) -> dict:
    """Lesson 11's sections 1-6, as one function. Returns seconds, best return, monitor."""
    from bench_dqn_seeds import build_dqn  # the lesson's parts, built in one place

    import rltutor

    parts = build_dqn(seed)
    collector, buffer, egreedy, loss_fn = (parts.collector, parts.buffer, parts.egreedy,
                                           parts.loss_fn)
    optimizer, target_updater, checkpoint = (parts.optimizer, parts.target_updater,
                                             parts.checkpoint)

    def gradient_step() -> float:
        loss = loss_fn(buffer.sample())["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        target_updater.step()
        return loss.item()

    monitor = None
    if evaluate_and_monitor:
        # live=True outside Jupyter: it draws every PNG as in a notebook; the panel's
        # text repr goes to a sink.
        with contextlib.redirect_stdout(io.StringIO()):
            monitor = rltutor.TrainingMonitor(
                total_frames=TOTAL_FRAMES, live=True,
                target_return=rltutor.reward_threshold("CartPole-v1"))
    start, cpu = time.perf_counter(), time.process_time()
    frames = 0
    for batch in collector:
        buffer.extend(batch.reshape(-1))
        frames += batch.numel()
        egreedy.step(batch.numel())
        loss = None
        if frames >= WARMUP_FRAMES:
            loss = [gradient_step() for _ in range(UPDATES_PER_BATCH)][-1]
        if monitor is not None:
            eval_return = (checkpoint.consider(frames=frames) if frames % EVAL_EVERY == 0
                           else None)
            monitor.update(frames=frames, loss=loss, epsilon=egreedy.eps.item(),
                           eval_return=eval_return)
    if monitor is not None:
        with contextlib.redirect_stdout(io.StringIO()):
            monitor.close()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    collector.shutdown()
    best = checkpoint.best_return if checkpoint.history else float("nan")
    return {"seconds": seconds, "cpu_seconds": cpu, "frames": frames, "best": best,
            "monitor": monitor}


def raw_q_network():
    """The raw twins' Q network: lesson 11's MLP (4 -> 64 -> 64 -> 2, tanh), plain PyTorch."""
    from torch import nn

    return nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                         nn.Linear(64, 2))


def plain_loop(*, seed: int = 0, num_envs: int = NUM_ENVS) -> dict:
    """The same DQN on gymnasium + PyTorch directly (cleanrl's way), on the lesson's
    ``num_envs`` CartPoles in one ``SyncVectorEnv`` (autoreset off, done envs reset by
    mask, as TorchRL does): the same frames per batch, updates per frame and schedule."""
    import gymnasium as gym
    import numpy as np
    import torch
    from torch import nn

    envs = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * num_envs,
                                    autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    q_network, target_network = raw_q_network(), raw_q_network()
    target_network.load_state_dict(q_network.state_dict())
    optimizer = torch.optim.Adam(q_network.parameters(), lr=2.5e-3)
    size = 20_000
    observations = np.zeros((size, 4), np.float32)
    next_observations = np.zeros((size, 4), np.float32)
    actions = np.zeros(size, np.int64)
    rewards = np.zeros(size, np.float32)
    terminations = np.zeros(size, np.float32)
    obs, _ = envs.reset(seed=seed)
    start, cpu = time.perf_counter(), time.process_time()
    frame = 0
    while frame < TOTAL_FRAMES:
        epsilon = max(0.05, 1.0 - 0.95 * frame / TOTAL_FRAMES)
        action = rng.integers(2, size=num_envs)
        if frame >= WARMUP_FRAMES:
            with torch.no_grad():
                greedy = q_network(torch.from_numpy(obs)).argmax(1).numpy()
            action = np.where(rng.random(num_envs) < epsilon, action, greedy)
        next_obs, reward, terminated, truncated, _ = envs.step(action)
        i = np.arange(frame, frame + num_envs) % size
        observations[i], next_observations[i], actions[i] = obs, next_obs, action
        rewards[i], terminations[i] = reward, terminated
        frame += num_envs
        done = terminated | truncated
        obs = envs.reset(options={"reset_mask": done})[0] if done.any() else next_obs
        if frame % FRAMES_PER_BATCH or frame < WARMUP_FRAMES:
            continue
        for _ in range(UPDATES_PER_BATCH):
            idx = rng.integers(0, min(frame, size), BATCH_SIZE)
            with torch.no_grad():
                next_max = target_network(torch.from_numpy(next_observations[idx])).max(1).values
                target = torch.from_numpy(rewards[idx]) + 0.99 * next_max * (
                    1 - torch.from_numpy(terminations[idx]))
            q = q_network(torch.from_numpy(observations[idx]))
            q_taken = q.gather(1, torch.from_numpy(actions[idx])[:, None]).squeeze(1)
            loss = nn.functional.mse_loss(q_taken, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for p, tp in zip(q_network.parameters(), target_network.parameters(),
                                 strict=True):
                    tp.lerp_(p, 0.01)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    envs.close()
    return {"seconds": seconds, "cpu_seconds": cpu, "frames": frame, "q_network": q_network}


def run() -> list[dict]:
    import os

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lesson_loop(evaluate_and_monitor=False)  # warm-up: imports, first allocations
        plain_loop()
        watched, bare, plain = [], [], []
        for _ in range(ROUNDS):
            watched.append(lesson_loop(evaluate_and_monitor=True))
            bare.append(lesson_loop(evaluate_and_monitor=False))
            plain.append(plain_loop())
    finally:
        torch.set_num_threads(threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    wall = statistics.median(r["seconds"] for r in watched)
    fps = statistics.median(r["frames"] / r["seconds"] for r in bare)
    plain_fps = statistics.median(r["frames"] / r["seconds"] for r in plain)
    share = statistics.median(100 * r["monitor"].seconds / r["seconds"] for r in watched)
    redraws = statistics.median(r["monitor"].redraws for r in watched)
    best = min(r["best"] for r in watched)
    return [
        row("training: lesson 11 loop, 10k CartPole frames, evals + live monitor", wall,
            unit="s", target="< 30 s"),
        row(f"  best greedy return on selection episodes (min over runs; load avg {load:.1f})",
            best, unit="", target="a milestone, not 'solved' (registry: 475)"),
        row("training frames/s: lesson's TorchRL loop (no evals, no monitor)", fps, plain_fps,
            unit="frames/s", baseline_name="(gymnasium + PyTorch, cleanrl way)"),
        row(f"training: monitor's share of loop time ({redraws:.0f} redraws)", share,
            unit="%", target="< 5 %"),
    ]


if __name__ == "__main__":
    print(format_table(run()))
