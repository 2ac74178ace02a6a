"""``Explorer``: controls that re-run a rollout and redraw its plot on every change.

The panel only wires controls to one pure function,
:func:`rltutor.widgets._explorer_frame.explorer_frame` (policy, environment and control
values in; rollout, numbers, summary rows and figure out), so everything it shows can be
computed and checked without a browser. Its controls come from one table,
:data:`CONTROLS` (name -> factory), and what the policy allows from one look into it,
:func:`rltutor._exploration.policy_profile`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import torch

from rltutor._exploration import PolicyProfile, policy_profile
from rltutor.devices import available_devices
from rltutor.plots import RolloutFigure
from rltutor.rollouts import policy_device
from rltutor.validation import EXPLORATION_NAMES, check_exploration, check_seed, check_steps
from rltutor.widgets._explorer_frame import ExplorerFrame, explorer_frame
from rltutor.widgets._panel import LivePanel
from rltutor.widgets._target import target_return_slider, target_return_transforms

__all__ = ["CONTROLS", "CONTROL_NAMES", "Explorer", "explorer"]

_STYLE = {"description_width": "initial"}


def _epsilon(panel: Explorer, start: dict[str, Any]) -> widgets.Widget:
    return widgets.FloatSlider(value=float(panel.profile.egreedy[0].eps), min=0.0, max=1.0,
                               step=0.05, description="epsilon", continuous_update=False,
                               readout_format=".2f", style=_STYLE)


def _target_return(panel: Explorer, start: dict[str, Any]) -> widgets.Widget:
    return target_return_slider(panel.targets)


def _exploration(panel: Explorer, start: dict[str, Any]) -> widgets.Widget:
    return widgets.Dropdown(options=list(EXPLORATION_NAMES), value=start["exploration"],
                            description="exploration", style=_STYLE,
                            layout=widgets.Layout(width="220px"))


def _device(panel: Explorer, start: dict[str, Any]) -> widgets.Widget:
    devices = available_devices()
    # a batched env built without a device says None: its tensors are on the CPU
    env_device = torch.device(getattr(panel.env, "device", None) or "cpu")
    current = policy_device(panel.policy) or env_device
    value = str(current) if str(current) in devices else devices[0]
    return widgets.Dropdown(options=devices, value=value, description="device", style=_STYLE,
                            layout=widgets.Layout(width="160px"),
                            tooltip="devices on this machine")


def _seed(panel: Explorer, start: dict[str, Any]) -> widgets.Widget:
    return widgets.BoundedIntText(value=start["seed"], min=0, max=2**31 - 1, description="seed",
                                  style=_STYLE, layout=widgets.Layout(width="140px"))


def _steps(panel: Explorer, start: dict[str, Any]) -> widgets.Widget:
    return widgets.IntSlider(value=start["steps"], min=10, max=1000, step=10,
                             description="steps", continuous_update=False, style=_STYLE)


# name -> (is it worth offering for this panel's policy and env, the widget's factory);
# the order is the order of the row and of explorer_frame's keyword arguments
CONTROLS: dict[str, tuple[Callable[[Explorer], bool],
                          Callable[[Explorer, dict[str, Any]], widgets.Widget]]] = {
    "epsilon": (lambda panel: bool(panel.profile.egreedy), _epsilon),
    "target_return": (lambda panel: bool(panel.targets), _target_return),
    "exploration": (lambda panel: panel.profile.explores, _exploration),
    "device": (lambda panel: True, _device),
    "seed": (lambda panel: True, _seed),
    "steps": (lambda panel: True, _steps),
}
CONTROL_NAMES: tuple[str, ...] = tuple(CONTROLS)


class Explorer(LivePanel):
    """Controls + live rollout plot + summary for one environment and policy.

    State for tests and curious learners: ``controls`` (name -> widget), ``profile``
    (how the policy explores), ``rollout_td`` (the latest rollout), ``figure`` (a
    :class:`RolloutFigure`, updated in place), ``stats`` (the numbers in the summary),
    ``frame`` (the latest :class:`~rltutor.widgets._explorer_frame.ExplorerFrame`),
    ``last_error`` (the exception the last update raised, or None), ``timings``
    (seconds the last update spent on the ``rollout``, on finding exploratory steps
    (``explored``) and on the ``redraw``).

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
        unknown = [c for c in controls if c not in CONTROLS]
        if isinstance(controls, str) or unknown:
            raise ValueError(
                f"unknown control(s) {unknown or controls!r}; accepted: {', '.join(CONTROL_NAMES)}"
            )
        self.env, self.policy = env, policy
        self.profile: PolicyProfile = policy_profile(policy)
        # a Decision Transformer: the env's TargetReturn feeds what the policy reads
        self.targets = target_return_transforms(env, policy)
        self.rollout_td = None
        self.stats: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.frame: ExplorerFrame | None = None
        if exploration is None:
            exploration = "random" if self.profile.explores else "deterministic"
        self._settings = {"exploration": check_exploration(exploration).value,
                          "steps": check_steps(steps), "seed": check_seed(seed)}
        self.controls: dict[str, widgets.Widget] = {}
        for name in controls:  # only the controls that change something for this policy
            offered, make = CONTROLS[name]
            if offered(self):
                self.controls[name] = make(self, self._settings)
                self.controls[name].add_class(f"rltutor-{name}")

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

    def values(self) -> dict[str, Any]:
        """The control values the next update applies (a control not offered keeps the
        starting value, or leaves the policy as it is)."""
        return {name: widget.value for name, widget in self.controls.items()} | {
            name: value for name, value in self._settings.items() if name not in self.controls}

    def update(self) -> None:
        """Apply the controls, re-run the rollout, redraw; errors go to the error area.

        The very first call (from the constructor) raises instead, so a policy that
        cannot run in this environment fails in the learner's cell.
        """
        self.refresh()

    def _refresh(self) -> None:
        frame = explorer_frame(self.env, self.policy, **self.values(), profile=self.profile,
                               targets=self.targets, figure=self.figure)
        self.frame, self.figure = frame, frame.figure
        # shown at its own pixel size (a stretched PNG looks blurry); the size changes only
        # when the figure gains or loses an action panel
        width, height = frame.figure.canvas.get_width_height()
        if self.plot.layout.width != f"{width}px" or self.plot.layout.height != f"{height}px":
            self.plot.layout = widgets.Layout(width=f"{width}px", height=f"{height}px")
        self.plot.value = frame.png
        self.rollout_td, self.stats, self.timings = frame.rollout_td, frame.stats, frame.timings
        self.summary.value = frame.summary_html


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
