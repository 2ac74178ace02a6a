"""Frames of a rollout from the environment's own renderer, playable in a notebook.

>>> from rltutor import make_env, make_qvalue_policy
>>> env = make_env("CartPole-v1", render=True)
>>> movie = animate(env, make_qvalue_policy(env), steps=5)
>>> movie.frames[0].shape  # in a notebook, `movie` shows a Play button, a slider, the frame
(200, 300, 3)

Frames come from gymnasium's ``render_mode="rgb_array"`` (about 1 ms each), not from
TorchRL's ``from_pixels`` (pixels in every TensorDict, several ms and MB per step).
They are encoded to PNG only when shown, and each once, so ``animate`` stays cheap
under nbmake where no one watches.
"""

from __future__ import annotations

import base64
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from tensordict.nn import TensorDictModuleBase

from rltutor._png import encode_png
from rltutor.envs import make_env, offscreen_rendering
from rltutor.rollouts import materialize_lazy, rollout
from rltutor.validation import check_steps

__all__ = ["Animation", "animate", "gym_env"]


def gym_env(env: Any) -> Any:
    """The gymnasium environment inside a TorchRL ``GymEnv`` (or a ``TransformedEnv`` of one).

    Args:
        env: a TorchRL ``GymEnv``, possibly transformed.

    >>> gym_env(make_env("Pendulum-v1")).spec.id
    'Pendulum-v1'
    """
    base = getattr(env, "base_env", env)
    inner = getattr(base, "_env", None)
    if inner is None or not hasattr(inner, "render"):
        raise ValueError(
            f"animate needs a TorchRL GymEnv (e.g. rltutor.make_env(...)); got {type(env).__name__}"
        )
    return inner


def _rendering_env(env: Any) -> Any:
    """``env`` if it renders RGB frames, otherwise a rendering twin of the same gym id."""
    inner = gym_env(env)
    if getattr(inner, "render_mode", None) == "rgb_array":
        return env
    if getattr(env, "base_env", env) is not env:
        raise ValueError(
            "this environment has transforms and was made without render_mode='rgb_array'; "
            "build its GymEnv with render_mode='rgb_array' (rltutor.make_env(name, render=True))"
        )
    # A plain GymEnv has device None (tensors stay where gym puts them: the CPU).
    return make_env(inner.spec.id, device=env.device or "cpu", render=True)


def _downscale(frame: np.ndarray, factor: int) -> np.ndarray:
    # A copy, not a strided view: a view would keep the whole full-size frame alive
    # (Pendulum: 750 KB per frame instead of 190 KB at factor 2).
    return np.ascontiguousarray(frame[::factor, ::factor]) if factor > 1 else frame


class Animation:
    """Rendered frames of one rollout, shown as a small player widget in Jupyter.

    ``frames`` (HxWx3 uint8 arrays; frame ``i`` is the state the policy saw at step ``i``,
    one more frame shows the state after the last step), ``rollout_td``,
    ``widget`` (Play button + slider + image + caption, built on first use),
    ``png(i)`` (frame ``i`` as PNG bytes, cached).

    Args:
        frames: the rendered frames, HxWx3 uint8 arrays.
        rollout_td: the rollout they show.
        fps: frames per second of the player.

    >>> import numpy as np
    >>> movie = Animation([np.zeros((4, 6, 3), np.uint8)], rollout_td=None)
    >>> movie, movie.png(0)[:4]
    (Animation(1 frames of 6x4, fps=20), b'\x89PNG')
    """

    def __init__(self, frames: list[np.ndarray], rollout_td: Any, *, fps: int = 20) -> None:
        if not frames:
            raise ValueError("no frames were rendered")
        self.frames = frames
        self.rollout_td = rollout_td
        self.fps = fps
        self._png: dict[int, bytes] = {}
        self._widget = None

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        h, w = self.frames[0].shape[:2]
        return f"Animation({len(self.frames)} frames of {w}x{h}, fps={self.fps})"

    def png(self, index: int) -> bytes:
        """Frame ``index`` as PNG bytes (encoded once, then cached)."""
        if index not in self._png:
            self._png[index] = encode_png(np.asarray(self.frames[index], np.uint8)[..., :3])
        return self._png[index]

    def caption(self, index: int) -> str:
        """What happens at frame ``index``: the step, the action taken there, its reward."""
        if index >= self.rollout_td.shape[0]:
            return f"step {index}: after the last step"
        td = self.rollout_td[index]
        taken = td["action"]
        if not taken.is_floating_point() and taken.numel() > 1:  # one-hot: say which
            action: Any = int(taken.flatten().long().argmax())
        else:
            values = taken.flatten().tolist()
            action = values[0] if len(values) == 1 else values
        if isinstance(action, float):
            action = f"{action:+.2f}"
        reward = float(td["next", "reward"].sum())
        done = " · episode ended" if bool(td["next", "done"].any()) else ""
        return f"step {index}: action {action}, reward {reward:+.2f}{done}"

    @property
    def widget(self) -> Any:
        """The player: ipywidgets Play + IntSlider linked, driving an Image."""
        if self._widget is None:
            last = len(self.frames) - 1
            image = widgets.Image(value=self.png(0), format="png")
            play = widgets.Play(value=0, min=0, max=last, interval=int(1000 / self.fps))
            slider = widgets.IntSlider(value=0, min=0, max=last, description="frame")
            caption = widgets.Label(self.caption(0))
            widgets.jslink((play, "value"), (slider, "value"))

            def show(change: dict) -> None:
                try:
                    image.value = self.png(change["new"])
                    caption.value = self.caption(change["new"])
                except Exception as exc:  # noqa: BLE001 - keep the player alive
                    caption.value = f"could not show frame {change['new']}: {exc}"

            slider.observe(show, names="value")
            box = widgets.VBox([widgets.HBox([play, slider]), image, caption])
            box.add_class("rltutor-animation")
            self._widget = box
        return self._widget

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The player widget, with the first frame as a still for places with no kernel.

        Frontends that can draw widgets show the player; a notebook exported to HTML
        without widget state shows the first frame instead of nothing.
        """
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(self.png(0)).decode("ascii")
        # the still's description (a course site's alt text), not the object's repr
        h, w = self.frames[0].shape[:2]
        bundle["text/plain"] = (f"First frame of an animation of {len(self.frames)} rendered "
                                f"frames ({w}x{h} pixels) of the environment the policy acted in.")
        return bundle


def animate(
    env: Any,
    policy: Any,
    *,
    steps: int = 100,
    exploration: Any = "deterministic",
    seed: int = 0,
    fps: int = 20,
    downscale: int = 2,
) -> Animation:
    """Run ``policy`` in ``env`` and return the rendered frames as a playable Animation.

    ``env`` should be made with ``make_env(name, render=True)``; a plain ``GymEnv`` without
    a render mode gets a rendering twin of the same id. ``downscale`` keeps every n-th
    pixel (2 halves width and height). Works headless: gymnasium renders off-screen.

    Args:
        env: a ``GymEnv``, ideally made with ``make_env(name, render=True)``.
        policy: the policy to run.
        steps: how many steps.
        exploration: the exploration type of the rollout.
        seed: the rollout's seed.
        fps: frames per second of the player (1 to 60).
        downscale: keep every n-th pixel (a whole number >= 1).

    >>> from rltutor import make_env, make_actor
    >>> env = make_env("Pendulum-v1", render=True)
    >>> len(animate(env, make_actor(env), steps=5).frames)
    6
    """
    steps = check_steps(steps)
    if isinstance(downscale, bool) or not isinstance(downscale, int) or downscale < 1:
        raise ValueError(f"downscale must be a whole number >= 1, got {downscale!r}")
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 60:
        raise ValueError(f"fps must be a whole number from 1 to 60, got {fps!r}")
    offscreen_rendering()
    env = _rendering_env(env)
    inner = gym_env(env)
    materialize_lazy(env, policy)  # before wrapping, so that call renders no frame
    frames: list[np.ndarray] = []

    def grab() -> None:
        frames.append(_downscale(np.asarray(inner.render()), downscale))

    with torch.no_grad():  # frames to watch: seeded, and on past episode ends
        td = rollout(env, _grab_before_act(policy, grab), steps=steps,
                     exploration=exploration, seed=seed, break_when_done=False)
    grab()  # the state after the last step
    return Animation(frames, td, fps=fps)


def _grab_before_act(policy: Any, grab: Any) -> Any:
    """Wrap ``policy`` so a frame is rendered each time it is asked to act.

    So frame ``i`` shows the state the policy saw at step ``i`` (resets included).
    """
    class GrabBeforeAct(TensorDictModuleBase):
        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            self.in_keys = list(getattr(policy, "in_keys", []))
            self.out_keys = list(getattr(policy, "out_keys", ["action"]))

        def forward(self, td: Any) -> Any:
            grab()
            return self.policy(td)

    return GrabBeforeAct()
