"""An ipywidgets panel that re-runs a rollout whenever a control moves.

The panel only wires controls to pure functions (:func:`rltutor.rollout`,
:func:`rltutor.rollouts.deterministic_actions`, :class:`rltutor.plots.RolloutFigure`), so
everything it does can be driven and checked without a browser::

    >>> panel = explorer(env, policy)                  # doctest: +SKIP
    >>> panel.controls["epsilon"].value = 1.0          # re-runs and redraws  # doctest: +SKIP
    >>> panel.stats["explored_fraction"]               # doctest: +SKIP

For a lesson's own figure, :func:`interact_figure` wires any controls to a function that
returns a Figure (keyword = the function's parameter)::

    >>> interact_figure(plot_fn, seed=widgets.IntSlider(0, 0, 9))  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import torch

from rltutor.envs import check_seed, env_id
from rltutor.plots import RolloutFigure
from rltutor.rollouts import (
    action_leaves,
    deterministic_actions,
    explored_mask,
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

__all__ = [
    "CONTROL_NAMES",
    "Explorer",
    "FigureControls",
    "exploration_modules",
    "explorer",
    "figure_png",
    "interact_figure",
    "short_error",
]

CONTROL_NAMES: tuple[str, ...] = ("epsilon", "exploration", "device", "seed", "steps")

_PANEL_CSS = """
<style>
.rltutor-explorer { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px;
  background: var(--jp-layout-color0, #fff); width: fit-content; max-width: 100%; }
.rltutor-explorer .rltutor-controls { flex-wrap: wrap; gap: 4px 18px; }
.rltutor-summary table { border-collapse: collapse; font-size: 13px; }
.rltutor-summary td { padding: 2px 12px 2px 0; }
.rltutor-summary td.k { color: #57606a; }
.rltutor-summary td.v { font-family: var(--jp-code-font-family, monospace); }
.rltutor-error .msg { color: #b42318; background: #fef3f2; border: 1px solid #fda29b;
  border-radius: 4px; padding: 4px 8px; font-size: 13px; }
.rltutor-error .hint { color: #1f2328; margin-top: 3px; }
</style>
"""


def exploration_modules(policy: Any) -> dict[str, list[torch.nn.Module]]:
    """The modules inside ``policy`` whose behaviour depends on the exploration type.

    Keys: ``"egreedy"`` (EGreedyModule), ``"noise"`` (additive Gaussian / OU noise),
    ``"probabilistic"`` (modules that sample from a distribution).

    >>> exploration_modules(torch.nn.Linear(2, 1))
    {'egreedy': [], 'noise': [], 'probabilistic': []}
    """
    from tensordict.nn import ProbabilisticTensorDictModule
    from torchrl.modules import (
        AdditiveGaussianModule,
        EGreedyModule,
        OrnsteinUhlenbeckProcessModule,
    )

    found: dict[str, list[torch.nn.Module]] = {"egreedy": [], "noise": [], "probabilistic": []}
    modules = policy.modules() if isinstance(policy, torch.nn.Module) else ()
    for module in modules:
        if isinstance(module, EGreedyModule):
            found["egreedy"].append(module)
        elif isinstance(module, (AdditiveGaussianModule, OrnsteinUhlenbeckProcessModule)):
            found["noise"].append(module)
        elif isinstance(module, ProbabilisticTensorDictModule):
            found["probabilistic"].append(module)
    return found


def short_error(exc: BaseException) -> str:
    """One readable sentence for an exception: its first line, trimmed.

    >>> short_error(ValueError("epsilon must be a number in [0, 1], got 1.5\\nmore"))
    'ValueError: epsilon must be a number in [0, 1], got 1.5'
    """
    text = str(exc).strip().splitlines()
    first = text[0].strip() if text else ""
    if len(first) > 240:
        first = first[:237] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _hint_html(exc: BaseException) -> str:
    """The fix rltutor knows for this exception (a classic TorchRL mistake), or ''."""
    from rltutor.diagnostics import hint_for

    finding = hint_for(exc)
    if finding is None:
        return ""
    return (f'<div class="hint">{html.escape(finding.what)}. Fix: '
            f"{html.escape(finding.fix)}</div>")


class Explorer(widgets.VBox):
    """Controls + live rollout plot + summary for one environment and policy.

    State for tests and curious learners: ``controls`` (name -> widget), ``rollout_td``
    (the latest rollout), ``figure`` (a :class:`RolloutFigure`, updated in place),
    ``stats`` (the numbers in the summary), ``last_error`` (the exception the last
    update raised, or None), ``timings`` (seconds the last update spent on the
    ``rollout``, on finding exploratory steps (``explored``) and on the ``redraw``).
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
        self.last_error: BaseException | None = None
        self.rollout_td = None
        self.stats: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self._env_name = env_id(env)
        found = exploration_modules(policy)
        self.egreedy = found["egreedy"]
        explores = any(found.values())
        if exploration is None:
            exploration = "random" if explores else "deterministic"
        exploration = check_exploration(exploration).value
        steps, seed = check_steps(steps), check_seed(seed)

        # Only controls that change something for this policy.
        wanted = {
            "epsilon": bool(self.egreedy),
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
        self.error = widgets.HTML(layout=widgets.Layout(display="none"))
        self.error.add_class("rltutor-error")
        self.plot = widgets.Image(format="png")
        self.plot.add_class("rltutor-plot")
        row = widgets.HBox(list(self.controls.values()))
        row.add_class("rltutor-controls")
        super().__init__([widgets.HTML(_PANEL_CSS), row, self.summary, self.error, self.plot])
        self.add_class("rltutor-explorer")

        self.figure: RolloutFigure | None = None
        self.update()  # the first rollout raises: bad inputs should fail in the cell
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")

    # -- controls ------------------------------------------------------------------------
    def _make_control(self, name: str, steps: int, seed: int, exploration: str) -> Any:
        style = {"description_width": "initial"}
        if name == "epsilon":
            eps = float(self.egreedy[0].eps)
            w = widgets.FloatSlider(
                value=eps, min=0.0, max=1.0, step=0.05, description="epsilon",
                continuous_update=False, readout_format=".2f", style=style,
            )  # fmt: skip
        elif name == "exploration":
            w = widgets.Dropdown(options=list(EXPLORATION_NAMES), value=exploration,
                                 description="exploration", style=style,
                                 layout=widgets.Layout(width="220px"))  # fmt: skip
        elif name == "device":
            devices = available_devices()
            # a batched env built without a device says None: its tensors are on the CPU
            env_device = torch.device(getattr(self.env, "device", None) or "cpu")
            current = policy_device(self.policy) or env_device
            value = str(current) if str(current) in devices else devices[0]
            w = widgets.Dropdown(options=devices, value=value, description="device", style=style,
                                 layout=widgets.Layout(width="160px"),
                                 tooltip="devices on this machine")  # fmt: skip
        elif name == "seed":
            w = widgets.BoundedIntText(
                value=seed, min=0, max=2**31 - 1, description="seed", style=style,
                layout=widgets.Layout(width="140px"),
            )  # fmt: skip
        else:  # steps
            w = widgets.IntSlider(value=steps, min=10, max=1000, step=10, description="steps",
                                  continuous_update=False, style=style)  # fmt: skip
        w.add_class(f"rltutor-{name}")
        return w

    def _on_change(self, change: dict) -> None:
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.plot.value:
            # A still of the plot as shown, for places with no widget manager (a notebook
            # exported to HTML without widget state). Frontends that can draw the widget
            # rank its view above any picture, so the live panel is unaffected.
            bundle["image/png"] = base64.b64encode(bytes(self.plot.value)).decode("ascii")
        return bundle

    # -- the one callback ----------------------------------------------------------------
    def update(self) -> None:
        """Apply the controls, re-run the rollout, redraw; errors go to the error area.

        The very first call (from the constructor) raises instead, so a policy that
        cannot run in this environment fails in the learner's cell.
        """
        first = self.figure is None
        try:
            with _one_torch_thread():
                self._update()
        except Exception as exc:  # noqa: BLE001 - a callback must never kill the panel
            if first:
                raise
            self.last_error = exc
            self.error.value = (
                f'<div class="msg">Could not update the rollout. {html.escape(short_error(exc))}'
                f"{_hint_html(exc)}</div>"
            )
            self.error.layout.display = None
        else:
            self.last_error = None
            self.error.value = ""
            self.error.layout.display = "none"

    def _value(self, name: str) -> Any:
        widget = self.controls.get(name)
        return widget.value if widget is not None else self._settings.get(name)

    def _update(self) -> None:
        if "epsilon" in self.controls:
            eps = check_epsilon(self.controls["epsilon"].value)
            for module in self.egreedy:
                module.eps.fill_(eps)  # the buffer EGreedyModule.forward reads
        if "device" in self.controls:
            # also the specs exploration modules keep, which policy.to() leaves behind
            move_to_device(self.env, self.policy, check_device(self.controls["device"].value))
        exploration = self._value("exploration")
        start = time.perf_counter()
        td = rollout(self.env, self.policy, steps=self._value("steps"),
                     exploration=exploration, seed=self._value("seed"))  # fmt: skip
        rolled = time.perf_counter()
        greedy = deterministic_actions(self.policy, td)
        explored = explored_mask(td["action"], greedy, batch_dims=td.batch_dims)
        compared = time.perf_counter()
        envs = f" × {td.shape[0]} envs" if td.batch_dims > 1 else ""
        title = f"{self._env_name}{envs} · exploration={exploration}"
        if self.figure is None:
            self.figure = RolloutFigure(td, explored=explored, greedy_action=greedy, title=title,
                                        env=self.env)  # fmt: skip
        else:
            self.figure.update(td, explored=explored, greedy_action=greedy, title=title)
        # shown at its own pixel size (a stretched PNG looks blurry); the size changes only
        # when the figure gains or loses an action panel
        width, height = self.figure.canvas.get_width_height()
        if self.plot.layout.width != f"{width}px" or self.plot.layout.height != f"{height}px":
            self.plot.layout = widgets.Layout(width=f"{width}px", height=f"{height}px")
        self.plot.value = self.figure.to_png()
        drawn = time.perf_counter()
        self.timings = {"rollout": rolled - start, "explored": compared - rolled,
                        "redraw": drawn - compared}  # fmt: skip
        self.rollout_td = td
        self._summarize(td, explored, exploration)

    def _summarize(self, td: Any, explored: torch.Tensor, exploration: str) -> None:
        # Over every env of a batch: rewards add up, episodes ended count in each env.
        reward = float(td["next", "reward"].sum())
        episodes = int(td["next", "done"].sum())
        num_envs = int(td.shape[:-1].numel())
        per_env = td["next", "reward"].reshape(num_envs, -1).sum(-1)
        self.stats = {
            "total_reward": reward,
            "explored_fraction": float(explored.float().mean()),
            "action_device": str(action_leaves(td["action"])[0][1].device),
            "exploration": exploration,
            "steps": int(td.shape[-1]),
            "episodes_ended": episodes,
            "num_envs": num_envs,
            "reward_per_env": [round(float(r), 4) for r in per_env],
        }
        if self.egreedy:
            self.stats["epsilon"] = float(self.egreedy[0].eps)
        rows = [
            ("total reward", f"{reward:.2f}"),
            ("exploratory (≠ deterministic)", f"{self.stats['explored_fraction']:.0%} "
                                             f"({int(explored.sum())} of {explored.numel()})"),
            ("action device", self.stats["action_device"]),
            ("episodes ended", str(episodes)),
        ]  # fmt: skip
        if td.batch_dims > 1:
            rows[0] = (f"total reward ({num_envs} envs)", f"{reward:.2f}")
            rows.insert(1, ("per env", f"{float(per_env.min()):.1f} … {float(per_env.max()):.1f}"))
        cells = "".join(
            f'<td class="k">{html.escape(k)}</td><td class="v">{html.escape(v)}</td>'
            for k, v in rows
        )
        self.summary.value = f"<table><tr>{cells}</tr></table>"


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
    **options: Any,
) -> Explorer:
    """A panel of controls that re-runs ``policy`` in ``env`` and redraws on every change.

    Controls that cannot change anything are left out: no epsilon slider without an
    ``EGreedyModule``, no exploration menu for a policy with nothing to explore. The
    device menu lists only this machine's devices and moves both policy and env.
    Options: ``steps``, ``seed``, ``exploration`` (the starting values).

    >>> panel = explorer(env, policy)          # doctest: +SKIP
    >>> panel.controls["seed"].value = 3        # doctest: +SKIP
    >>> panel.stats["total_reward"]             # doctest: +SKIP
    """
    return Explorer(env, policy, controls, **options)


# -- a lesson's own figure under controls -----------------------------------------------
# ``fn`` takes the controls' values as keyword arguments and returns a matplotlib Figure;
# the panel shows it as a PNG in an ``ipywidgets.Image``. (An Image's bytes live in the
# widget's state, so the picture shows even where an ``Output`` widget's captured display
# would not, e.g. after a fresh "Run all" or in an exported notebook.)


def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, drawn with Agg (works on figures closed in pyplot).

    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not hasattr(fig, "savefig"):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    FigureCanvasAgg(fig)  # a canvas of its own: no pyplot backend involved
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class FigureControls(widgets.VBox):
    """Controls in a row, the figure under them, an error line under that.

    State for tests: ``controls`` (name -> widget), ``figure`` (the latest Figure),
    ``last_error`` (what the last redraw raised, or None).
    """

    def __init__(self, fn: Callable[..., Any], controls: dict[str, widgets.Widget]) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be a function returning a Figure, got {fn!r}")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(
                    f"control {name!r} must be an ipywidgets control with a value "
                    f"(IntSlider, Dropdown, Checkbox, ...), got {type(control).__name__}"
                )
            if not control.description:
                control.description = name
        self.fn, self.controls = fn, dict(controls)
        self.figure: Any = None
        self.last_error: BaseException | None = None
        self.image = widgets.Image(format="png")
        self.image.add_class("rltutor-figure")
        self.error = widgets.HTML()
        self.error.add_class("rltutor-error")
        wrap = widgets.Layout(flex_flow="row wrap")
        row = widgets.HBox(list(self.controls.values()), layout=wrap)
        super().__init__([row, self.image, self.error])
        self.add_class("rltutor-figure-controls")
        self.redraw()  # a first call that fails raises here: bad inputs fail in the cell
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> None:
        """Call ``fn`` with the current values and show the Figure it returns."""
        fig = self.fn(**self.values())
        self.image.value = figure_png(fig)
        self.figure = fig

    def _on_change(self, _change: Any) -> None:
        try:
            self.redraw()
        except Exception as error:  # shown in the panel: a callback must never die silently
            self.last_error = error
            self.error.value = (
                f'<span style="color:#b42318">{html.escape(short_error(error))}</span>'
            )
        else:
            self.last_error = None
            self.error.value = ""


def interact_figure(fn: Callable[..., Any], **controls: widgets.Widget) -> FigureControls:
    """A panel whose controls (keyword = ``fn``'s parameter) redraw ``fn``'s Figure.

    >>> interact_figure(plot_rollout_for, seed=widgets.IntSlider(0, 0, 9))  # doctest: +SKIP
    """
    return FigureControls(fn, controls)
