"""animate: rendered frames, cheap, headless, playable through a widget."""

from __future__ import annotations

import numpy as np
import pytest
from test_rollouts import egreedy_qvalue, mlp_actor

from rltutor.envs import make_env
from rltutor.frames import Animation, animate, gym_env


def test_animate_pendulum_frames_and_rollout():
    env = make_env(render=True)
    movie = animate(env, mlp_actor(), steps=12)
    assert isinstance(movie, Animation)
    assert len(movie) == 13 and movie.rollout_td.shape[0] == 12
    h, w, c = movie.frames[0].shape
    assert (h, w, c) == (250, 250, 3) and movie.frames[0].dtype == np.uint8
    assert not np.array_equal(movie.frames[0], movie.frames[-1])  # the pendulum moved
    assert movie.png(3).startswith(b"\x89PNG")
    assert movie.png(3) is movie.png(3)  # encoded once
    assert "action" in movie.caption(0) and "after the last step" in movie.caption(12)


def test_downscaled_frames_do_not_keep_the_full_size_frames_alive():
    movie = animate(make_env(render=True), mlp_actor(), steps=4)  # downscale=2
    for frame in movie.frames:
        assert frame.base is None and frame.nbytes == 250 * 250 * 3


def test_animate_is_reproducible_and_matches_rollout():
    from rltutor.rollouts import rollout

    env = make_env(render=True)
    a = animate(env, mlp_actor(), steps=8, seed=2)
    b = animate(env, mlp_actor(), steps=8, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames, strict=True))
    plain = rollout(make_env(), mlp_actor(), steps=8, seed=2)
    assert (a.rollout_td == plain).all()  # rendering does not change the rollout


def test_animate_makes_a_rendering_twin_for_plain_env():
    env = make_env("CartPole-v1")  # no render mode
    policy, _ = egreedy_qvalue(env, eps=0.0)
    movie = animate(env, policy, steps=5, downscale=1)
    assert movie.frames[0].shape == (400, 600, 3)
    assert "step 2: action " in movie.caption(2)


def test_widget_player_steps_through_frames():
    movie = animate(make_env(render=True), mlp_actor(), steps=6)
    box = movie.widget
    play, slider = box.children[0].children
    image, caption = box.children[1], box.children[2]
    assert play.max == slider.max == 6
    slider.value = 4
    assert image.value == movie.png(4)
    assert caption.value == movie.caption(4)
    assert movie.widget is box


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"steps": 0}, "steps"), ({"downscale": 0}, "downscale"), ({"fps": 0}, "fps")],
)
def test_animate_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        animate(make_env(render=True), mlp_actor(), **kwargs)


def test_gym_env_rejects_non_gym():
    with pytest.raises(ValueError, match="needs a TorchRL GymEnv"):
        gym_env(object())


def test_animation_bundle_has_player_and_first_frame_still():
    import base64

    movie = animate(make_env(render=True), mlp_actor(), steps=3)
    bundle = movie._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == movie.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == movie.png(0)
    # the still's alt text says what it is, with the frame count and size
    assert bundle["text/plain"].startswith("First frame of an animation of 4 rendered frames")
