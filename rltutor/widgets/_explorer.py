"""``Explorer``: controls that re-run a rollout and redraw its plot on every change.

The panel only wires controls to pure functions (:func:`rltutor.rollout`,
:func:`rltutor._greedy.record_greedy`, :class:`rltutor.plots.RolloutFigure`), so
everything it does can be driven and checked without a browser.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import torch

from rltutor._action_band import action_bands
from rltutor._exploration import exploration_modules
from rltutor._greedy import is_random_policy, record_greedy
from rltutor._noise_band import noise_band
from rltutor._replaced import record_replaced
from rltutor.envs import check_seed, env_id
from rltutor.plots import RolloutFigure
from rltutor.rollouts import (
    action_leaves,
    move_to_device,
    policy_device,
    rollout,
)
from rltutor.validation import (
    EXPLORATION_NAMES,
    available_devices,
    check_device,
    check_epsilon,
    check_exploration,
    check_steps,
)
from rltutor.widgets._panel import LivePanel
from rltutor.widgets._target import (
    set_target_return,
    target_return_slider,
    target_return_transforms,
)

__all__ = ["CONTROL_NAMES", "Explorer", "explorer"]

CONTROL_NAMES: tuple[str, ...] = (
    "epsilon", "target_return", "exploration", "device", "seed", "steps"
)

class Explorer(LivePanel):
    """Controls + live rollout plot + summary for one environment and policy.

    State for tests and curious learners: ``controls`` (name -> widget), ``rollout_td``
    (the latest rollout), ``figure`` (a :class:`RolloutFigure`, updated in place),
    ``stats`` (the numbers in the summary), ``last_error`` (the exception the last
    update raised, or None), ``timings`` (seconds the last update spent on the
    ``rollout``, on finding exploratory steps (``explored``) and on the ``redraw``).

    Args:
        env: the environment to roll out in.
        policy: the policy to run.
        controls: which controls to offer (see :data:`CONTROL_NAMES`); controls that
            cannot change anything for this policy are left out.
        steps: the starting number of steps per rollout.
        seed: the starting seed.
        exploration: the starting exploration type; default "random" for a policy that
            explores, else "deterministic".
    """

    def __init__(
        self,
        env: Any,
        policy: Any,
        controls: Sequence[str] = CONTROL_NAMES,
        *,
        steps: int = 200,
        seed: int = 0,
        exploration: Any = None,
    ) -> None:
        unknown = [c for c in controls if c not in CONTROL_NAMES]
        if isinstance(controls, str) or unknown:
            raise ValueError(
                f"unknown control(s) {unknown or controls!r}; accepted: {', '.join(CONTROL_NAMES)}"
            )
        self.env, self.policy = env, policy
        self.rollout_td = None
        self.stats: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self._env_name = env_id(env)
        found = exploration_modules(policy)
        self.egreedy = found["egreedy"]
        self._samples = bool(found["probabilistic"])  # "sampled" and "≠ deterministic" rows
        self._replaces = bool(found["egreedy"] or found["noise"])
        self._random_policy = is_random_policy(policy)  # every action a draw from the spec
        # a probabilistic policy with no module that replaces or perturbs its action: its
        # samples get a band of the distribution, not a mark on every step; one noise
        # module on a deterministic actor: a band of the noise around the unperturbed action
        self._samples_only = bool(found["probabilistic"]) and not (found["egreedy"]
                                                                   or found["noise"])
        self._noise = (found["noise"][0] if len(found["noise"]) == 1 and not (
            found["egreedy"] or found["probabilistic"]) else None)
        # a Decision Transformer: the env's TargetReturn feeds what the policy reads
        self.targets = target_return_transforms(env, policy)
        explores = any(found.values())
        if exploration is None:
            exploration = "random" if explores else "deterministic"
        exploration = check_exploration(exploration).value
        steps, seed = check_steps(steps), check_seed(seed)

        # Only controls that change something for this policy.
        wanted = {
            "epsilon": bool(self.egreedy),
            "target_return": bool(self.targets),
            "exploration": explores,
            "device": True,
            "seed": True,
            "steps": True,
        }
        self.controls: dict[str, widgets.Widget] = {}
        for name in controls:
            if wanted[name]:
                self.controls[name] = self._make_control(name, steps, seed, exploration)
        self._settings = {"exploration": exploration, "steps": steps, "seed": seed}

        self.summary = widgets.HTML()
        self.summary.add_class("rltutor-summary")
        self.plot = widgets.Image(format="png")
        self.plot.add_class("rltutor-plot")
        row = widgets.HBox(list(self.controls.values()))
        row.add_class("rltutor-controls")
        super().__init__([row, self.summary, self.plot], picture=self.plot,
                         css_class="rltutor-explorer", failure="Could not update the rollout.")
        self.figure: RolloutFigure | None = None
        self.start(self.controls.values())  # the first rollout raises in the learner's cell

    # -- controls ------------------------------------------------------------------------
    def _make_control(self, name: str, steps: int, seed: int, exploration: str) -> Any:
        style = {"description_width": "initial"}
        if name == "epsilon":
            eps = float(self.egreedy[0].eps)
            w = widgets.FloatSlider(
                value=eps, min=0.0, max=1.0, step=0.05, description="epsilon",
                continuous_update=False, readout_format=".2f", style=style,
            )
        elif name == "target_return":
            w = target_return_slider(self.targets)
        elif name == "exploration":
            w = widgets.Dropdown(options=list(EXPLORATION_NAMES), value=exploration,
                                 description="exploration", style=style,
                                 layout=widgets.Layout(width="220px"))
        elif name == "device":
            devices = available_devices()
            # a batched env built without a device says None: its tensors are on the CPU
            env_device = torch.device(getattr(self.env, "device", None) or "cpu")
            current = policy_device(self.policy) or env_device
            value = str(current) if str(current) in devices else devices[0]
            w = widgets.Dropdown(options=devices, value=value, description="device", style=style,
                                 layout=widgets.Layout(width="160px"),
                                 tooltip="devices on this machine")
        elif name == "seed":
            w = widgets.BoundedIntText(
                value=seed, min=0, max=2**31 - 1, description="seed", style=style,
                layout=widgets.Layout(width="140px"),
            )
        else:  # steps
            w = widgets.IntSlider(value=steps, min=10, max=1000, step=10, description="steps",
                                  continuous_update=False, style=style)
        w.add_class(f"rltutor-{name}")
        return w

    # -- the one callback ----------------------------------------------------------------
    def update(self) -> None:
        """Apply the controls, re-run the rollout, redraw; errors go to the error area.

        The very first call (from the constructor) raises instead, so a policy that
        cannot run in this environment fails in the learner's cell.
        """
        self.refresh()

    def _refresh(self) -> None:
        with _one_torch_thread():
            self._update()

    def _marks_and_band(self, td: Any, greedy: Any, explored: torch.Tensor,
                        exploration: str) -> tuple:
        """``(marks, band, band_of)``: marks where a module replaced the action (ε-greedy);
        for a policy that only samples, no marks but the 5-95 % band of its distribution;
        for one noise module, no marks but the 5-95 % band of its noise."""
        if exploration == "deterministic":
            return explored, None, "distribution"
        if self._samples_only:
            return torch.zeros_like(explored), action_bands(self.policy, td), "distribution"
        # the noise modules act only under RANDOM (MEAN and MODE leave the action alone)
        if (self._noise is not None and exploration == "random"
                and isinstance(greedy, torch.Tensor)):
            band = noise_band(self._noise, greedy, td)
            if band is not None:
                return torch.zeros_like(explored), band, "noise"
        return explored, None, "distribution"

    def _value(self, name: str) -> Any:
        widget = self.controls.get(name)
        return widget.value if widget is not None else self._settings.get(name)

    def _update(self) -> None:
        if "epsilon" in self.controls:
            eps = check_epsilon(self.controls["epsilon"].value)
            for module in self.egreedy:
                module.eps.fill_(eps)  # the buffer EGreedyModule.forward reads
        if "target_return" in self.controls:  # read at the reset the rollout starts with
            set_target_return(self.targets, self.controls["target_return"].value)
        if "device" in self.controls:
            # also the specs exploration modules keep, which policy.to() leaves behind
            move_to_device(self.env, self.policy, check_device(self.controls["device"].value))
        exploration = self._value("exploration")
        start = time.perf_counter()
        # the greedy action is recorded as the rollout runs: re-running the policy on the
        # stored entries afterwards is wrong for a policy that rewrites its inputs, and
        # costs a second pass
        with record_greedy(self.policy, exploration) as recorder, \
                record_replaced(self.policy) as replacer, torch.no_grad():
            td = rollout(self.env, self.policy, steps=self._value("steps"),
                         exploration=exploration, seed=self._value("seed"),
                         break_when_done=False)  # seeded, and on past episode ends
        rolled = time.perf_counter()
        greedy, differs = recorder.result(td)
        # marks go where a module replaced the action, not where the policy sampled it
        replaced = replacer.result(td) if self._replaces and not self._random_policy \
            else differs
        marks, band, band_of = self._marks_and_band(td, greedy, replaced, exploration)
        if self._samples_only:
            replaced = marks  # nothing to replace: no marks, zero replaced
        compared = time.perf_counter()
        envs = f" × {td.shape[0]} envs" if td.batch_dims > 1 else ""
        title = f"{self._env_name}{envs} · exploration={exploration}"
        if self.figure is None:
            self.figure = RolloutFigure(td, explored=marks, greedy_action=greedy, title=title,
                                        env=self.env, action_band=band, band_of=band_of)
        else:
            self.figure.update(td, explored=marks, greedy_action=greedy, title=title,
                               action_band=band, band_of=band_of)
        # shown at its own pixel size (a stretched PNG looks blurry); the size changes only
        # when the figure gains or loses an action panel
        width, height = self.figure.canvas.get_width_height()
        if self.plot.layout.width != f"{width}px" or self.plot.layout.height != f"{height}px":
            self.plot.layout = widgets.Layout(width=f"{width}px", height=f"{height}px")
        self.plot.value = self.figure.to_png()
        drawn = time.perf_counter()
        self.timings = {"rollout": rolled - start, "explored": compared - rolled,
                        "redraw": drawn - compared}
        self.rollout_td = td
        self._summarize(td, replaced, differs, exploration)

    def _summarize(self, td: Any, replaced: torch.Tensor, differs: torch.Tensor,
                   exploration: str) -> None:
        # Over every env of a batch: rewards add up, episodes ended count in each env.
        reward = float(td["next", "reward"].sum())
        episodes = int(td["next", "done"].sum())
        num_envs = int(td.shape[:-1].numel())
        per_env = td["next", "reward"].reshape(num_envs, -1).sum(-1)
        self.stats = {
            "total_reward": reward,
            # steps whose action an exploration module (or RandomPolicy) made
            "explored_fraction": float(replaced.float().mean()),
            # steps whose action a distribution drew at random: all of them under "random"
            "sampled_fraction": float(self._samples and exploration == "random"),
            # steps whose action is not the deterministic one, for whatever reason
            "differs_fraction": float(differs.float().mean()),
            "action_device": str(action_leaves(td["action"])[0][1].device),
            "exploration": exploration,
            "steps": int(td.shape[-1]),
            "episodes_ended": episodes,
            "num_envs": num_envs,
            "reward_per_env": [round(float(r), 4) for r in per_env],
        }
        if self.egreedy:
            self.stats["epsilon"] = float(self.egreedy[0].eps)
        if self.targets:
            self.stats["target_return"] = float(self.targets[0].target_return)
        count = replaced.numel()
        rows = [("total reward", f"{reward:.2f}")]
        if self._samples:  # what a sampling policy does, counted apart from the modules
            rows.append(("sampled", _share(count if self.stats["sampled_fraction"] else 0,
                                           count)))
            rows.append(("≠ deterministic", _share(int(differs.sum()), count)))
        if self._random_policy:
            rows.append(("drawn by RandomPolicy", _share(int(replaced.sum()), count)))
        elif self._replaces or not self._samples:
            rows.append(("replaced by an exploration module",
                         _share(int(replaced.sum()), count)))
        rows += [("action device", self.stats["action_device"]),
                 ("episodes ended", str(episodes))]
        if td.batch_dims > 1:
            rows[0] = (f"total reward ({num_envs} envs)", f"{reward:.2f}")
            rows.insert(1, ("per env", f"{float(per_env.min()):.1f} … {float(per_env.max()):.1f}"))
        cells = "".join(
            f'<td class="k">{html.escape(k)}</td><td class="v">{html.escape(v)}</td>'
            for k, v in rows
        )
        self.summary.value = f"<table><tr>{cells}</tr></table>"


def _share(part: int, count: int) -> str:
    return f"{part / max(count, 1):.0%} ({part} of {count})"


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    # An update runs small batch-1 networks, then matplotlib. Extra OpenMP threads gain
    # nothing on the former and keep spinning on the other core during the latter
    # (measured on 2 cores: ~120 ms -> ~88 ms per update). Restored afterwards.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def explorer(
    env: Any,
    policy: Any,
    controls: Sequence[str] = CONTROL_NAMES,
    *,
    steps: int = 200,
    seed: int = 0,
    exploration: Any = None,
) -> Explorer:
    """A panel of controls that re-runs ``policy`` in ``env`` and redraws on every change.

    Controls that cannot change anything are left out: no epsilon slider without an
    ``EGreedyModule``, no exploration menu for a policy with nothing to explore, no
    target-return slider for a policy that reads no return-to-go. The
    device menu lists only this machine's devices and moves policy, env and the specs
    exploration modules keep.

    Args:
        env: the environment to roll out in.
        policy: the policy to run.
        controls: which of ``"epsilon"``, ``"target_return"``, ``"exploration"``,
            ``"device"``, ``"seed"``, ``"steps"`` to offer.
        steps: the starting number of steps per rollout.
        seed: the starting seed.
        exploration: the starting exploration type; default "random" for a policy that
            explores, else "deterministic".

    >>> import rltutor
    >>> env = rltutor.make_env("CartPole-v1")
    >>> policy = rltutor.with_egreedy(rltutor.make_qvalue_policy(env), env, eps=0.5)
    >>> panel = explorer(env, policy, steps=20)
    >>> list(panel.controls)
    ['epsilon', 'exploration', 'device', 'seed', 'steps']
    >>> panel.controls["epsilon"].value = 0.0  # re-runs and redraws
    >>> panel.stats["explored_fraction"]
    0.0
    """
    return Explorer(env, policy, controls, steps=steps, seed=seed, exploration=exploration)
