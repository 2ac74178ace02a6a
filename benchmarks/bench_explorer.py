"""Cost of one explorer control change (rollout + redraw) against a bare ``env.rollout``.

One "control change" is what a learner's slider tick costs in the kernel: set a control's
value, which re-runs a 200-step rollout, finds the exploratory steps, updates the figure
in place, draws it to PNG for the Image widget and rewrites the summary. The baseline is
the bare TorchRL call a learner would type, measured in the same run, interleaved:
``env.rollout(200, policy, break_when_any_done=False)`` under the same exploration type.
Targets (issue 7): update median < 100 ms for Pendulum, and redraw overhead < 0.5x of the
bare rollout, i.e. update / bare < 1.5x. The "of which" rows split each update into the
explorer's own timings (``Explorer.timings``) of the same ticks.

Run alone: ``python benchmarks/bench_explorer.py``; ``make bench`` folds it in.
"""

from __future__ import annotations

import io
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import format_table, row  # noqa: E402

STEPS = 200
TARGET = "< 100 ms"


def _policies():
    import torch
    from tensordict.nn import NormalParamExtractor, TensorDictModule, TensorDictSequential
    from torchrl.modules import (
        MLP,
        EGreedyModule,
        ProbabilisticActor,
        QValueModule,
        TanhNormal,
    )

    from rltutor.envs import make_env

    torch.manual_seed(0)
    pendulum = make_env("Pendulum-v1")
    mlp = TensorDictModule(MLP(in_features=3, out_features=1, num_cells=[64, 64]),
                           in_keys=["observation"], out_keys=["action"])
    net = torch.nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[64, 64]),
                              NormalParamExtractor())
    gaussian = ProbabilisticActor(
        TensorDictModule(net, in_keys=["observation"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=pendulum.action_spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": -2.0, "high": 2.0},
    )
    cartpole = make_env("CartPole-v1")
    q = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[64, 64]),
                         in_keys=["observation"], out_keys=["action_value"])
    egreedy = TensorDictSequential(
        q, QValueModule(spec=cartpole.action_spec),
        EGreedyModule(cartpole.action_spec, eps_init=0.3, eps_end=0.3),
    )
    return [
        ("Pendulum deterministic MLP actor", pendulum, mlp, "deterministic"),
        ("Pendulum TanhNormal ProbabilisticActor", pendulum, gaussian, "random"),
        ("CartPole Q-value actor + e-greedy", cartpole, egreedy, "random"),
        ("CartPole LSTM Q-value actor + e-greedy", *_recurrent_q_policy()),
    ]


def _recurrent_q_policy():
    """The DQN-with-an-RNN shape (issue 11): LSTM -> Q-values -> argmax -> e-greedy, on an
    env with InitTracker and the LSTM's primer. The explorer records the greedy action as
    the rollout runs, so it costs no second pass of the LSTM."""
    import torch
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.envs import Compose, InitTracker, TransformedEnv
    from torchrl.modules import MLP, EGreedyModule, LSTMModule, QValueModule

    from rltutor.envs import make_env

    torch.manual_seed(0)
    lstm = LSTMModule(input_size=4, hidden_size=64, in_key="observation", out_key="embed")
    env = TransformedEnv(make_env("CartPole-v1"),
                         Compose(InitTracker(), lstm.make_tensordict_primer()))
    q = TensorDictModule(MLP(in_features=64, out_features=2, num_cells=[64]),
                         in_keys=["embed"], out_keys=["action_value"])
    policy = TensorDictSequential(lstm, q, QValueModule(spec=env.action_spec),
                                  EGreedyModule(env.action_spec, eps_init=0.3, eps_end=0.3))
    return env, policy, "random"


def _bare(env, policy, exploration, threads=None):
    import torch
    from torchrl.envs.utils import set_exploration_type

    from rltutor.validation import check_exploration

    mode = check_exploration(exploration)

    def go():
        before = torch.get_num_threads()
        torch.set_num_threads(threads or before)
        try:
            with set_exploration_type(mode):
                env.rollout(STEPS, policy, break_when_any_done=False)
        finally:
            torch.set_num_threads(before)

    return go


def _interleaved(fns, *, repeat: int, warmup: int = 2) -> list[float]:
    """Median seconds of each fn, timed in turns so that other load hits all alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in times]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(repeat: int = 15) -> list[dict]:
    from IPython.core.pylabtools import print_figure

    from rltutor.widgets import explorer

    rows = []
    for label, env, policy, mode in _policies():
        panel = explorer(env, policy, steps=STEPS, exploration=mode)
        seeds = itertools.count(1)  # a new rollout each tick, as a learner moving a slider
        timings: list[dict] = []

        def tick(panel=panel, seeds=seeds, timings=timings):
            panel.controls["seed"].value = next(seeds)
            assert panel.last_error is None, panel.last_error
            timings.append(panel.timings)

        # The explorer updates with one torch thread. An LSTM's bare rollout with two threads
        # on a loaded 2-core machine is ~5x slower than with one (OpenMP waits on the busy
        # core), which would flatter the explorer: its baseline runs with one thread too.
        threads = 1 if "LSTM" in label else None
        bare, change = _interleaved([_bare(env, policy, mode, threads), tick], repeat=repeat)
        timed = timings[-repeat:]  # the measured ticks, not the warm-up ones
        redraw = statistics.median(t["redraw"] for t in timed)
        ours = statistics.median(t["rollout"] for t in timed)
        pendulum = label.startswith("Pendulum")
        rows += [
            row(f"explorer update (rollout + redraw): {label}", change * 1e3, bare * 1e3,
                target=f"{TARGET}, < 1.5x" if pendulum else "< 1.5x",
                baseline_name="(bare env.rollout)"),
            row("  of which redraw (figure update + PNG)", redraw * 1e3, bare * 1e3,
                target="< 0.5x", baseline_name="(bare env.rollout)"),
            row("  of which rltutor.rollout", ours * 1e3, bare * 1e3,
                baseline_name="(bare env.rollout)"),
        ]
        if "LSTM" in label:
            rows.append(row("  of which finding the exploratory steps",
                            statistics.median(t["explored"] for t in timed) * 1e3, bare * 1e3,
                            baseline_name="(bare env.rollout)"))
        if label.startswith("Pendulum deterministic"):
            # y limits stay put while the data fits them; when they move, the whole
            # figure is drawn again (about 30 ms), which the median hides.
            slow = _percentile([t["redraw"] for t in timed], 0.9)
            rows.append(row("  redraw, 90th percentile of ticks", slow * 1e3, bare * 1e3,
                            baseline_name="(bare env.rollout)"))

    # Ways to show the redrawn figure: PNG bytes into an Image widget (what the explorer
    # does: data lines only on a saved background, or everything), vs display(fig) into
    # an Output widget, which goes through the inline backend's print_figure
    # (bbox_inches="tight": lays out and draws twice, then Pillow's PNG encoder).
    fig = panel.figure

    def output_widget():
        return io.BytesIO(print_figure(fig, "png"))

    blit, full, inline = _interleaved(
        [fig.to_png, lambda: fig.to_png(reuse_background=False), output_widget], repeat=repeat
    )
    rows.append(row("PNG for Image widget, data lines only (explorer)", blit * 1e3,
                    inline * 1e3, baseline_name="(display(fig) path)"))
    rows.append(row("PNG for Image widget, full draw (limits changed)", full * 1e3,
                    inline * 1e3, baseline_name="(display(fig) path)"))

    from rltutor.envs import make_env
    from rltutor.frames import animate

    label, _, policy, mode = _policies()[0]
    render_env = make_env("Pendulum-v1", render=True)
    movie, plain = _interleaved(
        [lambda: animate(render_env, policy, steps=100), _bare(render_env, policy, mode)],
        repeat=3, warmup=1,
    )
    rows.append(row("animate 100 Pendulum frames (rendered, not encoded)", movie * 1e3,
                    plain * 1e3, baseline_name="(bare env.rollout, 200 steps)"))
    return rows


if __name__ == "__main__":
    import os

    table = format_table(run())
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(table)
