"""Where a TorchRL training loop's time goes, each part against its raw twin (issue 24).

Every row is a ratio measured in one run, the TorchRL side and the raw side taking turns,
in CPU time of this process (``time.process_time``, single-threaded), so a busy shared
machine slows both sides alike:

- **collection only**: lesson 11's Q-value policy with e-greedy collecting CartPole frames
  into a replay buffer, through a ``Collector`` (1 ``GymEnv``; ``NUM_ENVS`` CartPoles in
  one gymnasium ``SyncVectorEnv`` wrapped by ``GymWrapper``) against act, step and store
  written on gymnasium + PyTorch + numpy;
- **update only**: one DQN gradient step (sample 128, ``DQNLoss``, backward, Adam,
  ``SoftUpdate``) against the same step written by hand; then the same TorchRL step under
  ``torch.compile``, with its first call (the compile) beside it;
- **whole loops**: lesson 11's DQN (``bench_training``), lesson 13's PPO (``bench_ppo``,
  2 batches) and lesson 14's SAC (``bench_offpolicy``, a short budget) against their raw
  twins, with the same algorithm, envs and updates per frame.

Run alone: ``python benchmarks/bench_fast_paths.py`` (``--write`` also saves the numbers
as ``benchmarks/fast_paths.json``, the record lesson 11's section 10 quotes); ``make bench``
folds it in (``BENCH_ONLY=fast_paths``). Inductor compiles in this process
(``TORCHINDUCTOR_COMPILE_THREADS=1``), so the compile's CPU time is all counted.
``--profile`` prints where one lesson-11 update and one batch
of collection spend their time (cProfile), the evidence behind the README's note.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")  # compile CPU time in-process

from _table import format_table, row  # noqa: E402
from bench_dqn_seeds import BATCH_SIZE, NUM_ENVS  # noqa: E402

RECORD = Path(__file__).resolve().parent / "fast_paths.json"
COLLECT_FRAMES = 2_000
UPDATES = 300
ROUNDS = int(os.environ.get("BENCH_FAST_ROUNDS", "3"))  # each part, turn about


def _cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def _q_parts(num_envs: int):
    """Lesson 11's policy, explorer and collector on ``num_envs`` CartPoles (1: a GymEnv)."""
    import logging

    import torch
    from bench_dqn_seeds import make_cartpoles
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.collectors import Collector
    from torchrl.data import LazyTensorStorage, ReplayBuffer
    from torchrl.modules import MLP, EGreedyModule, QValueModule

    import rltutor

    logging.getLogger("torchrl").setLevel(logging.WARNING)  # its INFO lines carry a clock
    env = make_cartpoles(0, num_envs) if num_envs > 1 else rltutor.make_env("CartPole-v1")
    spec = env.action_spec_unbatched
    torch.manual_seed(0)
    value_net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[64, 64]),
                                 in_keys=["observation"], out_keys=["action_value"])
    policy = TensorDictSequential(value_net, QValueModule(spec=spec))
    egreedy = EGreedyModule(spec=spec, eps_init=0.5, eps_end=0.5, annealing_num_steps=1)
    collector = Collector(env, TensorDictSequential(policy, egreedy), frames_per_batch=10,
                          total_frames=COLLECT_FRAMES, auto_register_policy_transforms=False)
    buffer = ReplayBuffer(storage=LazyTensorStorage(20_000), batch_size=BATCH_SIZE,
                          generator=torch.Generator().manual_seed(0))
    return policy, collector, buffer


def torchrl_collect(num_envs: int) -> float:
    """CPU seconds for ``COLLECT_FRAMES`` frames through a Collector into a buffer."""
    _, collector, buffer = _q_parts(num_envs)

    def go() -> None:
        for batch in collector:
            buffer.extend(batch.reshape(-1))

    seconds = _cpu(go)
    collector.shutdown()
    return seconds


def raw_collect(num_envs: int) -> float:
    """CPU seconds for the same frames: act (same MLP, e-greedy), step, store in numpy."""
    import gymnasium as gym
    import numpy as np
    import torch
    from bench_training import raw_q_network

    envs = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * num_envs,
                                    autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    q = raw_q_network()
    rng = np.random.default_rng(0)
    store = np.zeros((20_000, 10), np.float32)
    obs, _ = envs.reset(seed=0)

    def go() -> None:
        nonlocal obs
        for frame in range(0, COLLECT_FRAMES, num_envs):
            with torch.no_grad():
                greedy = q(torch.from_numpy(obs)).argmax(1).numpy()
            action = np.where(rng.random(num_envs) < 0.5, rng.integers(2, size=num_envs),
                              greedy)
            next_obs, reward, terminated, truncated, _ = envs.step(action)
            i = np.arange(frame, frame + num_envs) % 20_000
            store[i, :4], store[i, 4:8], store[i, 8], store[i, 9] = (obs, next_obs, action,
                                                                     reward)
            done = terminated | truncated
            obs = envs.reset(options={"reset_mask": done})[0] if done.any() else next_obs

    seconds = _cpu(go)
    envs.close()
    return seconds


def torchrl_update(*, compiled: bool = False) -> tuple[float, float]:
    """(CPU seconds per update, CPU seconds of the first call) of lesson 11's update."""
    import torch
    from torchrl.objectives import DQNLoss, SoftUpdate

    policy, collector, buffer = _q_parts(NUM_ENVS)
    for batch in collector:
        buffer.extend(batch.reshape(-1))
    collector.shutdown()
    loss_fn = DQNLoss(policy, action_space=policy[-1].spec, delay_value=True)
    loss_fn.make_value_estimator(gamma=0.99)
    target_updater = SoftUpdate(loss_fn, tau=0.01)
    optimizer = torch.optim.Adam(loss_fn.parameters(), lr=2.5e-3)

    def learn(batch) -> None:
        loss = loss_fn(batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        target_updater.step()

    if compiled:
        learn = torch.compile(learn)
    first = _cpu(lambda: learn(buffer.sample()))
    for _ in range(10):
        learn(buffer.sample())
    return _cpu(lambda: [learn(buffer.sample()) for _ in range(UPDATES)]) / UPDATES, first


def raw_update() -> float:
    """CPU seconds per hand-written DQN update (numpy buffer, lerp_ target copy)."""
    import numpy as np
    import torch
    from bench_training import raw_q_network
    from torch import nn

    q, q_target = raw_q_network(), raw_q_network()
    q_target.load_state_dict(q.state_dict())
    optimizer = torch.optim.Adam(q.parameters(), lr=2.5e-3)
    rng = np.random.default_rng(0)
    obs, next_obs = rng.random((2, COLLECT_FRAMES, 4), dtype=np.float32)
    action = rng.integers(2, size=COLLECT_FRAMES)
    reward, term = np.ones(COLLECT_FRAMES, np.float32), np.zeros(COLLECT_FRAMES, np.float32)

    def learn() -> None:
        idx = rng.integers(0, COLLECT_FRAMES, BATCH_SIZE)
        with torch.no_grad():
            next_max = q_target(torch.from_numpy(next_obs[idx])).max(1).values
            target = torch.from_numpy(reward[idx]) + 0.99 * next_max * (
                1 - torch.from_numpy(term[idx]))
        taken = q(torch.from_numpy(obs[idx])).gather(1, torch.from_numpy(action[idx])[:, None])
        loss = nn.functional.mse_loss(taken.squeeze(1), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for p, tp in zip(q.parameters(), q_target.parameters(), strict=True):
                tp.lerp_(p, 0.01)

    for _ in range(10):
        learn()
    return _cpu(lambda: [learn() for _ in range(UPDATES)]) / UPDATES


def lesson11_loops() -> tuple[float, float]:
    """(TorchRL, raw) frames per CPU second of lesson 11's whole loop, no evaluations."""
    import bench_training

    torchrl = bench_training.lesson_loop(evaluate_and_monitor=False)
    raw = bench_training.plain_loop()
    return torchrl["frames"] / torchrl["cpu_seconds"], raw["frames"] / raw["cpu_seconds"]


def lesson13_loops() -> tuple[float, float]:
    """(TorchRL, raw) frames per CPU second of lesson 13's PPO loop, 2 batches, no evals."""
    import bench_ppo

    config = {**bench_ppo.CONFIG, "total_frames": 2 * bench_ppo.CONFIG["frames_per_batch"]}
    torchrl = bench_ppo.train(config, 0, evaluate=False)
    raw = _cpu(lambda: bench_ppo.plain_loop(config, 0))
    return torchrl["frames"] / torchrl["cpu_seconds"], config["total_frames"] / raw


@contextlib.contextmanager
def _short_offpolicy():
    """bench_offpolicy's CONFIG on a short budget (its loops read it), restored after."""
    import bench_offpolicy

    saved = dict(bench_offpolicy.CONFIG)
    bench_offpolicy.CONFIG.update(total_frames=1_500, warmup_frames=500, eval_every=1_500,
                                  selection_episodes=1, held_out_episodes=1)
    try:
        yield bench_offpolicy
    finally:
        bench_offpolicy.CONFIG.clear()
        bench_offpolicy.CONFIG.update(saved)


def lesson14_loops() -> tuple[float, float]:
    """(TorchRL, raw) frames per CPU second of lesson 14's SAC loop, 1,500 frames."""
    with _short_offpolicy() as offpolicy:
        frames = offpolicy.CONFIG["total_frames"]
        torchrl = _cpu(lambda: offpolicy.train("SAC", 0))
        raw = _cpu(lambda: offpolicy.plain(0))
    return frames / torchrl, frames / raw


LAST: dict = {}  # the numbers of the latest run(), for --write


def evaluation_seconds(*, side_by_side: bool) -> float:
    """CPU seconds of lesson 13/14's report: 20 held-out Pendulum episodes, one actor."""
    import rltutor

    env = rltutor.make_env("Pendulum-v1", seed=0)
    actor = rltutor.make_actor(env, num_cells=(64, 64), seed=0)
    policy = actor if side_by_side else (lambda td: actor(td))  # a callable: one at a time
    return _cpu(lambda: rltutor.held_out(env, policy, episodes=20))


def module_call_seconds(*, lookup: bool, calls: int = 5_000) -> float:
    """CPU seconds of ``calls`` calls of a one-layer ``TensorDictModule``, with tensordict's
    per-call search for pandas (``lookup``) or with rltutor's record that it is absent."""
    import torch
    from tensordict import TensorDict
    from tensordict.nn import TensorDictModule

    module = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["x"], out_keys=["y"])
    td = TensorDict(x=torch.zeros(3))
    recorded = sys.modules.pop("pandas", "absent")  # rltutor's record, put back below
    if not lookup:
        sys.modules["pandas"] = None
    try:
        with torch.no_grad():
            return _cpu(lambda: [module(td) for _ in range(calls)])
    finally:
        sys.modules.pop("pandas", None)
        if recorded != "absent":
            sys.modules["pandas"] = recorded


def run() -> list[dict]:
    import logging

    import torch

    import rltutor  # noqa: F401 - the lessons import it, and with it rltutor._speedups

    logging.getLogger("torchrl").setLevel(logging.WARNING)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    timings: dict[str, list[float]] = {}

    def keep(name: str, value: float) -> None:
        timings.setdefault(name, []).append(value)

    try:
        torchrl_collect(1), raw_collect(1)  # warm-up: imports, first allocations
        for _ in range(ROUNDS):
            for n in (1, NUM_ENVS):
                keep(f"collect torchrl {n}", COLLECT_FRAMES / torchrl_collect(n))
                keep(f"collect raw {n}", COLLECT_FRAMES / raw_collect(n))
            keep("update torchrl", torchrl_update()[0])
            keep("update raw", raw_update())
            keep("eval side by side", evaluation_seconds(side_by_side=True))
            keep("module call skipped", module_call_seconds(lookup=False) / 5_000)
            keep("module call lookup", module_call_seconds(lookup=True) / 5_000)
            keep("eval in turn", evaluation_seconds(side_by_side=False))
        wall = time.perf_counter()
        compiled, compile_first = torchrl_update(compiled=True)
        LAST.update(update_eager_ms=None, update_compiled_ms=compiled * 1e3,
                    compile_cpu_s=compile_first,
                    compile_and_measure_wall_s=time.perf_counter() - wall)
        for name, loops in (("11", lesson11_loops), ("13", lesson13_loops),
                            ("14", lesson14_loops)):
            torchrl_fps, raw_fps = loops()
            keep(f"loop torchrl {name}", torchrl_fps)
            keep(f"loop raw {name}", raw_fps)
    finally:
        torch.set_num_threads(threads)
    med = {name: statistics.median(values) for name, values in timings.items()}
    LAST.update(update_eager_ms=med["update torchrl"] * 1e3,
                update_raw_ms=med["update raw"] * 1e3, medians=med,
                load_average=os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
    rows = []
    for n, setup in ((1, "1 GymEnv"), (NUM_ENVS, f"GymWrapper(SyncVectorEnv) of {NUM_ENVS}")):
        rows.append(row(f"fast paths: collection only, Collector over {setup}",
                        med[f"collect torchrl {n}"], med[f"collect raw {n}"],
                        unit="frames/cpu-s", baseline_name=f"(gymnasium + PyTorch, {n} env"
                        f"{'s' if n > 1 else ''})"))
    rows.append(row("fast paths: one DQN update, TorchRL eager (sample, DQNLoss, Adam, "
                    "SoftUpdate)", med["update torchrl"] * 1e3, med["update raw"] * 1e3,
                    unit="ms", baseline_name="(the same update by hand)"))
    rows.append(row(f"fast paths: the same update under torch.compile (its compile: "
                    f"{compile_first:.1f} cpu-s)", compiled * 1e3, med["update raw"] * 1e3,
                    unit="ms", baseline_name="(the same update by hand)"))
    rows.append(row("fast paths: 20 held-out Pendulum episodes side by side (rltutor.held_out,"
                    " SyncVectorEnv twin)", med["eval side by side"], med["eval in turn"],
                    unit="cpu-s", baseline_name="(one GymEnv, one episode after another)"))
    rows.append(row("fast paths: one TensorDictModule call (Linear 3->1), pandas lookup "
                    "skipped (rltutor._speedups)", med["module call skipped"] * 1e6,
                    med["module call lookup"] * 1e6, unit="µs",
                    baseline_name="(tensordict's find_spec('pandas') on every call)"))
    names = {"11": f"lesson 11 DQN, {NUM_ENVS} envs, 10k frames",
             "13": "lesson 13 PPO, 8 envs, 2 batches", "14": "lesson 14 SAC, 10 envs, 1.5k frames"}
    for name, what in names.items():
        rows.append(row(f"fast paths: whole loop, {what}", med[f"loop torchrl {name}"],
                        med[f"loop raw {name}"], unit="frames/cpu-s",
                        baseline_name="(its raw twin, same run)",
                        target=">= 0.5x" if name == "11" else ""))
    return rows


def profile() -> None:
    """cProfile of 200 lesson-11 updates and 200 batches of collection (10 envs)."""
    import cProfile
    import pstats

    import torch

    torch.set_num_threads(1)
    for what, fn in (("update", lambda: torchrl_update()), ("collection",
                                                            lambda: torchrl_collect(NUM_ENVS))):
        profiler = cProfile.Profile()
        profiler.runcall(fn)
        print(f"--- {what} ---")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    if "--profile" in sys.argv[1:]:
        profile()
    else:
        rows = run()
        print(format_table(rows))
        if "--write" in sys.argv[1:]:
            RECORD.write_text(json.dumps({**LAST, "rows": rows}, indent=1) + "\n")
            print(f"wrote {RECORD}")
