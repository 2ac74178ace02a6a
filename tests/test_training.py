"""rltutor.training: greedy evaluation and the training monitor (no browser needed)."""

from __future__ import annotations

import math
import time

import pytest
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.modules import MLP, EGreedyModule, QValueModule

import rltutor
from rltutor.envs import make_env
from rltutor.training import TrainingMonitor, evaluate
from rltutor.training import monitor as monitor_module

# --- evaluate -----------------------------------------------------------------------------


@pytest.fixture
def env():
    return make_env("CartPole-v1", seed=0)


def _q_policy(env, seed: int = 0):
    torch.manual_seed(seed)
    net = TensorDictModule(MLP(in_features=4, out_features=2, num_cells=[16]),
                           in_keys=["observation"], out_keys=["action_value"])
    return TensorDictSequential(net, QValueModule(spec=env.action_spec))


def _push_right(td):
    return td.set("action", torch.tensor([0, 1]))


def test_evaluate_is_exported_at_the_top_level():
    assert rltutor.evaluate is evaluate
    assert rltutor.TrainingMonitor is TrainingMonitor


def test_evaluate_returns_the_mean_of_seeded_episode_returns(env):
    value = evaluate(env, _push_right, episodes=3, seed=5)
    by_hand = []
    for seed in (5, 6, 7):
        env.set_seed(seed)
        by_hand.append(env.rollout(1000, _push_right)["next", "reward"].sum().item())
    assert isinstance(value, float)
    assert value == pytest.approx(sum(by_hand) / 3)


def test_evaluate_is_the_same_whatever_ran_before(env):
    policy = _q_policy(env)
    first = evaluate(env, policy)
    env.set_seed(123)
    env.rollout(37, policy)  # leaves the env mid-episode with another seed
    torch.manual_seed(99)
    assert evaluate(env, policy) == first


def test_evaluate_acts_greedily_even_with_egreedy_on_top(env):
    policy = _q_policy(env)
    noisy = TensorDictSequential(policy, EGreedyModule(spec=env.action_spec, eps_init=1.0,
                                                       eps_end=1.0))
    assert evaluate(env, noisy, seed=3) == evaluate(env, policy, seed=3)


def test_evaluate_runs_without_grad(env):
    seen = []

    def policy(td):
        seen.append(torch.is_grad_enabled())
        return _push_right(td)

    evaluate(env, policy, episodes=1)
    assert seen and not any(seen)


def test_evaluate_stops_at_max_steps():
    env = make_env("Pendulum-v1", seed=0)  # never ends before gymnasium's 200-step limit
    zero = lambda td: td.set("action", torch.zeros(1))  # noqa: E731
    steps = []
    evaluate(env, lambda td: (steps.append(1), zero(td))[1], episodes=2, max_steps=7)
    assert len(steps) == 14


def test_evaluate_works_on_a_lazy_policy(env):
    net = TensorDictModule(MLP(out_features=2, num_cells=[8]), in_keys=["observation"],
                           out_keys=["action_value"])
    policy = TensorDictSequential(net, QValueModule(spec=env.action_spec))
    assert evaluate(env, policy, episodes=1) > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"episodes": 0}, ValueError, "episodes must be a whole number >= 1"),
        ({"episodes": 2.5}, ValueError, "episodes must be"),
        ({"episodes": True}, ValueError, "episodes must be"),
        ({"seed": -1}, ValueError, "seed must be a whole number >= 0"),
        ({"max_steps": 0}, ValueError, "max_steps must be"),
    ],
)
def test_evaluate_rejects_bad_arguments_clearly(env, kwargs, error, words):
    with pytest.raises(error, match=words):
        evaluate(env, _push_right, **kwargs)


def test_evaluate_rejects_a_policy_that_is_not_callable(env):
    with pytest.raises(TypeError, match="policy must be a TensorDict module or a callable"):
        evaluate(env, "policy")


# --- TrainingMonitor: recording -----------------------------------------------------------


def test_monitor_records_numbers_and_never_runs_anything():
    m = TrainingMonitor(total_frames=100, live=False)
    m.update(frames=10, loss=torch.tensor(0.5), epsilon=0.9)
    m.update(frames=20, eval_return=12)
    m.update(frames=20)
    assert m.history == {"eval_return": [(20, 12.0)], "loss": [(10, 0.5)],
                         "epsilon": [(10, 0.9)]}
    assert m.frames == 20 and m.redraws == 0
    assert m.best() == (20, 12.0)


def test_monitor_best_keeps_the_first_of_equal_returns():
    m = TrainingMonitor(total_frames=100, live=False)
    for frames, value in [(10, 5.0), (20, 9.0), (30, 9.0), (40, 1.0)]:
        m.update(frames=frames, eval_return=value)
    assert m.best() == (20, 9.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"frames": -1}, ValueError, "frames must be a whole number >= 0"),
        ({"frames": 5.0}, ValueError, "frames must be a whole number"),
        ({"frames": 10, "loss": "0.3"}, TypeError, "loss must be a number"),
        ({"frames": 10, "loss": torch.ones(3)}, ValueError, r"loss.item\(\)"),
        ({"frames": 10, "epsilon": True}, TypeError, "epsilon must be a number"),
    ],
)
def test_monitor_update_rejects_bad_numbers_clearly(kwargs, error, words):
    m = TrainingMonitor(total_frames=100, live=False)
    with pytest.raises(error, match=words):
        m.update(**kwargs)


def test_monitor_frames_may_not_go_back():
    m = TrainingMonitor(total_frames=100, live=False)
    m.update(frames=50)
    with pytest.raises(ValueError, match="not the batch size"):
        m.update(frames=10)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"total_frames": 0}, "total_frames"),
        ({"total_frames": 10, "every": -1}, "every"),
        ({"total_frames": 10, "max_share": 0}, "max_share"),
        ({"total_frames": 10, "max_share": 2}, "max_share"),
    ],
)
def test_monitor_rejects_bad_settings(kwargs, words):
    with pytest.raises(ValueError, match=words):
        TrainingMonitor(live=False, **kwargs)


def test_monitor_closed_refuses_updates_and_closes_once():
    with TrainingMonitor(total_frames=10, live=False) as m:
        m.update(frames=10)
    assert m.closed
    m.close()
    with pytest.raises(RuntimeError, match="closed"):
        m.update(frames=10)


def test_monitor_text_has_no_timings():
    m = TrainingMonitor(total_frames=1000, live=False)
    m.update(frames=500, loss=0.25, eval_return=200.0)
    assert str(m) == ("TrainingMonitor: 500 / 1,000 frames, best greedy return 200.0 at "
                      "500 frames, last loss 0.25")


# --- TrainingMonitor: drawing -------------------------------------------------------------


def _filled(live=False, **kwargs):
    m = TrainingMonitor(total_frames=1000, target_return=195, live=live, **kwargs)
    for frames in range(10, 1001, 10):
        m.update(frames=frames, loss=1.0 / frames, epsilon=1 - frames / 1000,
                 eval_return=frames / 5 if frames % 100 == 0 else None)
    return m


def test_monitor_draws_one_figure_updated_in_place():
    m = _filled()
    fig = m.figure()
    png = m.png()
    assert png.startswith(b"\x89PNG")
    m.update(frames=1000, eval_return=300.0)
    assert m.figure() is fig
    xs, ys = m._lines["eval_return"].get_data()
    assert list(ys)[-1] == 300.0 and len(xs) == 11
    assert list(m._lines["best"].get_data()[1]) == [300.0]
    assert len(fig.axes) == 3
    assert [ax.get_title().split(" (")[0] for ax in fig.axes] == [
        "greedy return", "loss", "epsilon"]
    assert "target 195" in fig.axes[0].get_title()


def test_monitor_png_redraws_only_the_lines_until_a_range_changes(monkeypatch):
    m = _filled()
    first = m.png()
    drawn = []
    canvas = m.figure().canvas
    original = canvas.draw
    monkeypatch.setattr(canvas, "draw", lambda: (drawn.append(1), original())[1])
    m.update(frames=1000, loss=0.002)  # a new point inside the loss axis's decades
    second = m.png()
    assert drawn == [] and second != first
    m.update(frames=1000, eval_return=400.0)  # a higher return: the return axis grows
    m.png()
    assert drawn == [1]
    assert m.figure().axes[0].get_ylim() == (0.0, 500.0)


def test_monitor_shows_as_a_png_and_text():
    bundle = _filled()._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png"}
    assert bundle["text/plain"].startswith("TrainingMonitor: 1,000 / 1,000 frames")


def test_monitor_is_quiet_outside_a_notebook(capsys):
    m = _filled(live=None)  # auto: pytest is no Jupyter kernel
    m.close()
    assert not m.live and m.redraws == 0
    assert capsys.readouterr().out == ""


class _FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, obj, **kwargs):
        self.shown.append(("update", obj))


@pytest.fixture
def fake_display(monkeypatch):
    import IPython.display

    shown = []

    def display(obj, display_id=None):
        shown.append(("display", obj))
        return _FakeHandle(shown)

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(monitor_module, "in_notebook", lambda: True)  # as in a kernel
    return shown


def test_monitor_live_shows_one_panel_then_leaves_a_still(fake_display):
    import base64

    import ipywidgets

    m = _filled(live=True, every=0.0, max_share=1.0)
    assert len(fake_display) == 1 and isinstance(fake_display[0][1], ipywidgets.VBox)
    assert m.redraws >= 1
    m.close()
    kind, still = fake_display[-1]
    assert kind == "update" and base64.b64decode(still["image/png"]).startswith(b"\x89PNG")
    # the still says what it shows (a course site's alt text), not an object's repr
    assert still["text/plain"] == str(m) and "greedy return" in still["text/plain"]
    assert len(fake_display) == 2  # one panel, one in-place replacement: no flood


def test_monitor_redraws_are_throttled_by_time(fake_display):
    m = TrainingMonitor(total_frames=10_000, live=True, every=60.0)
    for frames in range(10, 10_001, 10):
        m.update(frames=frames, loss=0.1)
    assert m.redraws == 1  # the first update draws, then nothing for 60 s


def test_monitor_redraws_keep_their_share_of_time(fake_display, monkeypatch):
    m = TrainingMonitor(total_frames=10_000, live=True, every=0.0, max_share=0.05)

    def slow_png():
        time.sleep(0.02)
        return b"\x89PNG"

    monkeypatch.setattr(m, "png", slow_png)
    opening = m.seconds  # the panel's first draw, before the loop
    start = time.perf_counter()
    frames = 0
    while time.perf_counter() - start < 1.5:
        frames += 1
        m.update(frames=frames, loss=0.1)
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    # 20 ms per draw at 5 % allows one draw per 0.4 s: 4 draws in 1.5 s, not hundreds.
    assert 1 <= m.redraws <= 5
    assert m.seconds - opening < 0.12 * elapsed


def test_monitor_redraw_error_shows_in_the_panel_and_training_goes_on(fake_display,
                                                                       monkeypatch):
    m = TrainingMonitor(total_frames=100, live=True, every=0.0, max_share=1.0)

    def broken_png():
        raise ValueError("no room to draw")

    monkeypatch.setattr(m, "png", broken_png)
    m.update(frames=10, loss=0.1)  # does not raise
    assert "no room to draw" in m._error.value and m.redraws == 1
    m.update(frames=20, loss=0.1)


def test_monitor_return_axis_holds_negative_returns_and_target():
    # Pendulum: returns far below zero, a target of -200 (lesson 13)
    m = TrainingMonitor(total_frames=10_000, target_return=-200, live=False)
    returns = [-1432.0, -1210.5, -830.0, -410.2, -163.9]
    for frames, value in zip(range(2000, 10_001, 2000), returns):
        m.update(frames=frames, loss=1.0, eval_return=value)
    low, high = m.figure().axes[0].get_ylim()
    assert low <= min(returns) and high >= max(returns) and low < -200 < high
    assert (low, high) == (-2000.0, 0.0)
    assert m.png().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("values", "limits"),
    [([], (0.0, 100.0)), ([195.0], (0.0, 300.0)), ([-200.0], (-300.0, 0.0)),
     ([-1500.0, 30.0], (-2000.0, 100.0)), ([500.0, 475.0], (0.0, 600.0))],
)
def test_return_limits_hold_zero_every_value_and_the_target(values, limits):
    assert monitor_module.return_limits(values) == limits


def test_one_nan_loss_is_an_event_and_the_mean_keeps_the_finite_losses():
    m = TrainingMonitor(total_frames=1000, live=False)
    for frames in range(10, 610, 10):  # 60 finite losses
        m.update(frames=frames, loss=0.5)
    m.update(frames=610, loss=float("nan"))
    m.update(frames=620, loss=torch.tensor(0.25))
    m.figure()
    xs, means = m._lines["loss_mean"].get_data()
    assert 610 not in list(xs) and all(math.isfinite(v) for v in means)
    assert means[-1] == pytest.approx((49 * 0.5 + 0.25) / 50)
    assert list(m._lines["loss_nan"].get_data()[0]) == [610]  # marked where it happened
    assert m.nonfinite_losses() == [(610, pytest.approx(float("nan"), nan_ok=True))]
    assert str(m).endswith(", 1 NaN loss (first at 610 frames)")
    m.update(frames=630, loss=float("inf"))
    assert str(m).endswith(", 2 NaN or infinite losses (first at 610 frames)")


def test_monitor_live_outside_jupyter_prints_text_lines(capsys, monkeypatch):
    m = TrainingMonitor(total_frames=100, live=True)  # pytest is no Jupyter kernel
    for frames in range(10, 101, 10):
        m.update(frames=frames, loss=0.1, eval_return=float(frames))
    m.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["TrainingMonitor: 0 / 100 frames",
                     "TrainingMonitor: 100 / 100 frames, best greedy return 100.0 at 100 "
                     "frames, last loss 0.1"]  # one when it opens, one at close: no HTML
    assert m.redraws == 0 and m._panel is None
    monkeypatch.setattr(monitor_module, "_TEXT_EVERY", 0.0)
    m = TrainingMonitor(total_frames=100, live=True)
    for frames in (10, 20, 30):
        m.update(frames=frames)
    out = capsys.readouterr().out
    assert out.count("TrainingMonitor:") == 4 and "<" not in out


def test_in_notebook_is_false_in_pytest():
    assert monitor_module.in_notebook() is False
