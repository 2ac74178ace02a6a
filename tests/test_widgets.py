"""explorer and interact_figure: controls re-run and redraw in place; errors stay in the panel."""

from __future__ import annotations

import base64

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure
from tensordict.nn import TensorDictModule, TensorDictSequential
from test_rollouts import composite_actor, egreedy_qvalue, gaussian_actor, mlp_actor, pendulums

from rltutor.devices import available_devices
from rltutor.envs import make_env
from rltutor.widgets import (
    Explorer,
    exploration_modules,
    explorer,
    figure_png,
    interact_figure,
    short_error,
)

STEPS = 60


@pytest.fixture
def cartpole_panel():
    env = make_env("CartPole-v1")
    policy, egreedy = egreedy_qvalue(env, eps=0.3)
    return explorer(env, policy, steps=STEPS), egreedy


def test_controls_for_egreedy_policy(cartpole_panel):
    panel, egreedy = cartpole_panel
    assert isinstance(panel, widgets.VBox) and isinstance(panel, Explorer)
    assert list(panel.controls) == ["epsilon", "exploration", "device", "seed", "steps"]
    assert panel.controls["epsilon"].value == pytest.approx(0.3)
    assert panel.controls["exploration"].value == "random"
    assert "rltutor-explorer" in panel._dom_classes
    for name, widget in panel.controls.items():
        assert f"rltutor-{name}" in widget._dom_classes
    assert "rltutor-summary" in panel.summary._dom_classes
    assert "rltutor-plot" in panel.plot._dom_classes
    assert "rltutor-error" in panel.error._dom_classes
    assert bytes(panel.plot.value).startswith(b"\x89PNG")
    assert panel.rollout_td.shape[0] == STEPS


def test_only_sensible_controls():
    env = make_env()
    panel = explorer(env, mlp_actor(), steps=20)
    assert list(panel.controls) == ["device", "seed", "steps"]  # nothing to explore
    gaussian = explorer(env, gaussian_actor(env), steps=20)
    assert list(gaussian.controls) == ["exploration", "device", "seed", "steps"]
    chosen = explorer(env, gaussian_actor(env), controls=("seed",), steps=20)
    assert list(chosen.controls) == ["seed"]


def test_unknown_control_rejected():
    with pytest.raises(ValueError, match="unknown control.*'speed'.*accepted: epsilon, "):
        explorer(make_env(), mlp_actor(), controls=("speed",))


def test_device_control_lists_this_machine_only(cartpole_panel):
    panel, _ = cartpole_panel
    assert list(panel.controls["device"].options) == available_devices()
    assert panel.stats["action_device"] == "cpu"
    assert "action device" in panel.summary.value and ">cpu<" in panel.summary.value


def test_epsilon_changes_exploratory_fraction(cartpole_panel):
    panel, egreedy = cartpole_panel
    panel.controls["epsilon"].value = 0.0
    assert float(egreedy.eps) == 0.0
    assert panel.stats["explored_fraction"] == 0.0
    summary_at_zero, png_at_zero = panel.summary.value, panel.plot.value
    panel.controls["epsilon"].value = 1.0
    assert float(egreedy.eps) == 1.0
    # a uniformly random action agrees with the greedy one about half the time
    assert 0.3 < panel.stats["explored_fraction"] < 0.7
    assert panel.summary.value != summary_at_zero and panel.plot.value != png_at_zero


def test_deterministic_mode_turns_exploration_off(cartpole_panel):
    panel, _ = cartpole_panel
    panel.controls["epsilon"].value = 1.0
    panel.controls["exploration"].value = "deterministic"
    assert panel.stats["explored_fraction"] == 0.0
    assert panel.stats["exploration"] == "deterministic"


def test_random_mode_samples_gaussian_policy():
    env = make_env()
    panel = explorer(env, gaussian_actor(env), steps=30, exploration="deterministic")
    assert panel.stats["explored_fraction"] == 0.0
    deterministic_actions = panel.rollout_td["action"].clone()
    panel.controls["exploration"].value = "random"
    assert panel.stats["explored_fraction"] == 0.0  # samples get a band, not marks (issue 12)
    assert not torch.equal(panel.rollout_td["action"], deterministic_actions)


def test_seed_and_steps_controls(cartpole_panel):
    panel, _ = cartpole_panel
    first = panel.rollout_td["action"].clone()
    panel.controls["seed"].value = 5
    assert not torch.equal(panel.rollout_td["action"], first)
    panel.controls["steps"].value = 30
    assert panel.rollout_td.shape[0] == 30 and panel.stats["steps"] == 30


def test_figure_updated_in_place(cartpole_panel):
    panel, _ = cartpole_panel
    fig, axes, line = panel.figure, list(panel.figure.axes), panel.figure.action_lines[0]
    old_png = panel.plot.value
    panel.controls["seed"].value = 11
    assert panel.figure is fig and list(fig.axes) == axes and fig.action_lines[0] is line
    assert len(line.get_xdata()) == STEPS and panel.plot.value != old_png
    assert plt.get_fignums() == []


class Flaky(TensorDictModule):
    """A policy that raises while ``fail`` is set, to test error handling."""

    fail = False

    def forward(self, td):
        if self.fail:
            raise RuntimeError("the policy broke on purpose\nsecond line of detail")
        return super().forward(td)


def test_failing_callback_shows_error_and_panel_recovers():
    env = make_env()
    policy = Flaky(torch.nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])
    panel = explorer(env, policy, steps=20)
    assert panel.error.layout.display == "none"
    png = panel.plot.value
    policy.fail = True
    panel.controls["seed"].value = 1  # must not raise
    assert isinstance(panel.last_error, RuntimeError)
    assert "the policy broke on purpose" in panel.error.value
    assert "second line" not in panel.error.value and "Traceback" not in panel.error.value
    assert panel.error.layout.display is None
    assert panel.plot.value == png  # the last good plot stays
    policy.fail = False
    panel.controls["seed"].value = 2
    assert panel.last_error is None and panel.error.value == ""
    assert panel.error.layout.display == "none"
    assert panel.plot.value != png


def test_bad_value_in_mode_shows_error():
    # TanhNormal has no analytical mode: picking "mode" must explain, not crash
    env = make_env()
    panel = explorer(env, gaussian_actor(env), steps=10)
    panel.controls["exploration"].value = "mode"
    assert panel.last_error is not None and "has not analytical mode" in panel.error.value
    # with the fix rltutor.diagnostics knows for this mistake
    assert 'class="hint"' in panel.error.value and "DETERMINISTIC" in panel.error.value
    panel.controls["exploration"].value = "deterministic"
    assert panel.last_error is None


def test_constructor_raises_for_unusable_policy():
    policy = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["pixels"], out_keys=["action"])
    with pytest.raises(ValueError, match="reads 'pixels'"):
        explorer(make_env(), policy)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        explorer(make_env(), mlp_actor(), steps=0)


def test_exploration_modules_found():
    env = make_env("CartPole-v1")
    policy, egreedy = egreedy_qvalue(env)
    found = exploration_modules(policy)
    assert found["egreedy"] == [egreedy] and not found["probabilistic"]
    assert len(exploration_modules(gaussian_actor(make_env()))["probabilistic"]) == 1


def test_short_error():
    assert short_error(ValueError("a\nb")) == "ValueError: a"
    assert short_error(KeyError()) == "KeyError"
    assert len(short_error(RuntimeError("x" * 1000))) < 260


def test_panel_sequence_without_epsilon():
    env = make_env()
    policy = TensorDictSequential(mlp_actor())
    panel = explorer(env, policy, steps=15)
    assert "epsilon" not in panel.controls
    assert "epsilon" not in panel.stats


def test_panel_names_observations_and_times_updates(cartpole_panel):
    panel, _ = cartpole_panel
    legend = [t.get_text() for t in panel.figure.ax_obs.get_legend().get_texts()]
    assert legend == ["cart position", "cart velocity", "pole angle", "pole angular velocity"]
    panel.controls["seed"].value = 4
    assert set(panel.timings) == {"rollout", "explored", "redraw"}
    assert all(t > 0 for t in panel.timings.values())


def test_mimebundle_has_live_view_and_still_fallback(cartpole_panel):
    import base64

    panel, _ = cartpole_panel
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id
    # the still is the plot as currently shown, for HTML exports without widget state
    assert base64.b64decode(bundle["image/png"]) == bytes(panel.plot.value)


def test_explorer_on_a_batched_env():
    env = pendulums(3)  # built without a device: env.device is None
    policy = gaussian_actor(env)
    panel = explorer(env, policy, steps=25)
    assert panel.controls["device"].value == "cpu"
    assert panel.rollout_td.batch_size == (3, 25)
    assert panel.stats["num_envs"] == 3 and len(panel.stats["reward_per_env"]) == 3
    assert panel.stats["total_reward"] == pytest.approx(sum(panel.stats["reward_per_env"]),
                                                        rel=1e-4)
    assert panel.stats["explored_fraction"] == 0.0  # only sampling: no marks (issue 12)
    assert len(panel.figure.reward_lines) == 3
    assert "3 envs" in panel.figure.get_suptitle() and "(3 envs)" in panel.summary.value
    panel.controls["exploration"].value = "deterministic"
    assert panel.last_error is None and panel.stats["explored_fraction"] == 0.0
    panel.controls["device"].value = "cpu"
    panel.controls["seed"].value = 3
    assert panel.last_error is None and panel.stats["action_device"] == "cpu"


def test_explorer_with_egreedy_on_batched_cartpole():
    from tensordict.nn import TensorDictModule
    from torchrl.envs import GymEnv, SerialEnv
    from torchrl.modules import MLP, EGreedyModule, QValueModule

    env = SerialEnv(2, lambda: GymEnv("CartPole-v1"))
    torch.manual_seed(0)
    q = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[16]),
                         in_keys=["observation"], out_keys=["action_value"])
    policy = TensorDictSequential(q, QValueModule(spec=env.action_spec_unbatched),
                                  EGreedyModule(env.action_spec, eps_init=0.5, eps_end=0.5))
    panel = explorer(env, policy, steps=40)
    assert 0.1 < panel.stats["explored_fraction"] < 0.5
    panel.controls["epsilon"].value = 0.0
    assert panel.stats["explored_fraction"] == 0.0


def test_explorer_on_composite_actions():
    from rltutor.addons.toy_envs import PuckEnv

    env = PuckEnv(seed=0)
    panel = explorer(env, composite_actor(env), steps=30)
    assert list(panel.controls) == ["exploration", "device", "seed", "steps"]
    assert panel.stats["explored_fraction"] == 0.0  # only sampling: no marks (issue 12)
    assert len(panel.figure.ax_actions) == 2
    width, height = panel.figure.canvas.get_width_height()
    assert panel.plot.layout.height == f"{height}px"  # the taller figure, at its own size
    panel.controls["exploration"].value = "deterministic"
    assert panel.last_error is None and panel.stats["explored_fraction"] == 0.0
    panel.controls["exploration"].value = "mean"  # no mean for a categorical part
    assert panel.last_error is not None and panel.error.layout.display is None


def test_device_control_moves_exploration_specs():
    from torchrl.modules import AdditiveGaussianModule

    env = make_env()
    noise = AdditiveGaussianModule(spec=env.action_spec)
    policy = TensorDictSequential(mlp_actor(), noise)
    noise._spec = noise.spec.to(torch.float64)  # stands in for "not where the action is"
    moved = []
    import rltutor.widgets._explorer_frame as explorer_module  # where the device moves

    real = explorer_module.move_to_device
    explorer_module.move_to_device = lambda e, p, d: moved.append(d) or real(e, p, d)
    try:
        explorer(env, policy, steps=10)
    finally:
        explorer_module.move_to_device = real
    assert moved == [torch.device("cpu")]


# -- interact_figure: a lesson's own figure under controls ------------------------------


def line_plot(slope: int = 1, label: str = "a") -> Figure:
    if slope < 0:
        raise ValueError("slope must be >= 0")
    fig = Figure(figsize=(2, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, slope], label=label)
    return fig


def test_figure_png_is_a_png() -> None:
    assert figure_png(line_plot()).startswith(b"\x89PNG")
    with pytest.raises(TypeError, match="matplotlib Figure"):
        figure_png("not a figure")


def test_moving_a_control_redraws() -> None:
    panel = interact_figure(line_plot, slope=widgets.IntSlider(1, -3, 5))
    first = panel.image.value
    assert bytes(first).startswith(b"\x89PNG") and panel.controls["slope"].description == "slope"
    panel.controls["slope"].value = 4
    assert panel.image.value != first
    assert panel.figure.axes[0].lines[0].get_ydata()[-1] == 4


def test_a_failing_redraw_shows_the_error_and_keeps_working() -> None:
    panel = interact_figure(line_plot, slope=widgets.IntSlider(1, -3, 5))
    shown = panel.image.value
    panel.controls["slope"].value = -1
    assert isinstance(panel.last_error, ValueError)
    assert "slope must be &gt;= 0" in panel.error.value or "slope must be >= 0" in panel.error.value
    assert panel.image.value == shown  # the last good figure stays
    panel.controls["slope"].value = 2
    assert panel.last_error is None and panel.error.value == ""


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="control 'slope'"):
        interact_figure(line_plot, slope=3)
    with pytest.raises(TypeError, match="function"):
        interact_figure(None, slope=widgets.IntSlider())
    with pytest.raises(ValueError, match="slope"):  # first draw fails in the cell
        interact_figure(line_plot, slope=widgets.IntSlider(-1, -3, 5))


def test_interact_figure_is_a_top_level_name() -> None:
    import rltutor

    assert rltutor.interact_figure is interact_figure


def test_figure_panel_carries_a_still_for_exported_notebooks() -> None:
    panel = interact_figure(line_plot, slope=widgets.IntSlider(1, -3, 5))
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live panel first
    assert base64.b64decode(bundle["image/png"]) == bytes(panel.image.value)


def test_both_panels_share_one_base() -> None:
    from rltutor.widgets import LivePanel

    panel = interact_figure(line_plot, slope=widgets.IntSlider(1, -3, 5))
    assert isinstance(panel, LivePanel) and issubclass(Explorer, LivePanel)
    assert panel.children[2] is panel.error  # right under the controls
    assert panel.error.layout.display == "none"
    panel.controls["slope"].value = -1
    assert panel.error.layout.display is None and "Could not redraw." in panel.error.value


def test_figure_png_keeps_the_figure_dpi() -> None:
    import io

    from matplotlib.image import imread

    fig = line_plot()
    fig.set_dpi(72)
    pixels = imread(io.BytesIO(figure_png(fig, dpi=50)))
    assert pixels.shape[:2] == (100, 100) and fig.dpi == 72
