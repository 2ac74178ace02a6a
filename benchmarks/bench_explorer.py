"""Cost of one explorer control change (rollout + redraw) against a bare ``env.rollout``.

One "control change" is what a learner's slider tick costs in the kernel: set a control's
value, which re-runs a 200-step rollout, finds the exploratory steps, updates the figure
in place, draws it to PNG for the Image widget and rewrites the summary. The baseline is
the bare TorchRL call a learner would type, measured in the same run:
``env.rollout(200, policy, break_when_any_done=False)`` under the same exploration type.

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
                           in_keys=["observation"], out_keys=["action"])  # fmt: skip
    net = torch.nn.Sequential(MLP(in_features=3, out_features=2, num_cells=[64, 64]),
                              NormalParamExtractor())  # fmt: skip
    gaussian = ProbabilisticActor(
        TensorDictModule(net, in_keys=["observation"], out_keys=["loc", "scale"]),
        in_keys=["loc", "scale"], spec=pendulum.action_spec, distribution_class=TanhNormal,
        distribution_kwargs={"low": -2.0, "high": 2.0},
    )  # fmt: skip
    cartpole = make_env("CartPole-v1")
    q = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[64, 64]),
                         in_keys=["observation"], out_keys=["action_value"])  # fmt: skip
    egreedy = TensorDictSequential(
        q, QValueModule(spec=cartpole.action_spec),
        EGreedyModule(cartpole.action_spec, eps_init=0.3, eps_end=0.3),
    )  # fmt: skip
    return [
        ("Pendulum deterministic MLP actor", pendulum, mlp, "deterministic"),
        ("Pendulum TanhNormal ProbabilisticActor", pendulum, gaussian, "random"),
        ("CartPole Q-value actor + e-greedy", cartpole, egreedy, "random"),
    ]


def _bare(env, policy, exploration):
    from torchrl.envs.utils import set_exploration_type

    from rltutor.validation import check_exploration

    mode = check_exploration(exploration)

    def go():
        with set_exploration_type(mode):
            env.rollout(STEPS, policy, break_when_any_done=False)

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


def run(repeat: int = 15) -> list[dict]:
    from IPython.core.pylabtools import print_figure

    from rltutor.rollouts import rollout
    from rltutor.widgets import explorer

    rows = []
    for label, env, policy, mode in _policies():
        panel = explorer(env, policy, steps=STEPS, exploration=mode)
        seeds = itertools.count(1)

        def tick(panel=panel, seeds=seeds):
            panel.controls["seed"].value = next(seeds)
            assert panel.last_error is None, panel.last_error

        def ours(env=env, policy=policy, mode=mode):
            rollout(env, policy, steps=STEPS, exploration=mode)

        bare, change, ours = _interleaved([_bare(env, policy, mode), tick, ours], repeat=repeat)
        rows.append(row(f"explorer control change: {label}", change * 1e3, bare * 1e3,
                        target=TARGET, baseline_name="(bare env.rollout)"))  # fmt: skip
        rows.append(row(f"  rltutor.rollout alone: {label}", ours * 1e3, bare * 1e3,
                        baseline_name="(bare env.rollout)"))  # fmt: skip

    # Two ways to show the redrawn figure: PNG bytes into an Image widget (what the
    # explorer does) vs display(fig) into an Output widget, which goes through the
    # inline backend's print_figure (bbox_inches="tight": lays out and draws twice).
    fig = panel.figure
    def output_widget():
        return io.BytesIO(print_figure(fig, "png"))

    image_widget, inline = _interleaved([fig.to_png, output_widget], repeat=repeat)
    rows.append(row("redraw to PNG for Image widget (explorer)", image_widget * 1e3,
                    inline * 1e3, baseline_name="(Output widget path)"))  # fmt: skip

    from rltutor.envs import make_env
    from rltutor.frames import animate

    label, _, policy, mode = _policies()[0]
    render_env = make_env("Pendulum-v1", render=True)
    movie, plain = _interleaved(
        [lambda: animate(render_env, policy, steps=100), _bare(render_env, policy, mode)],
        repeat=3, warmup=1,
    )  # fmt: skip
    rows.append(row("animate 100 Pendulum frames (rendered, not encoded)", movie * 1e3,
                    plain * 1e3, baseline_name="(bare env.rollout, 200 steps)"))  # fmt: skip
    return rows


if __name__ == "__main__":
    import os

    table = format_table(run())
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(table)
