"""make_env: seeded GymEnvs, clear errors, optional rendering."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rltutor.envs import make_env
from rltutor.validation import check_seed


def test_make_env_defaults_to_seeded_pendulum():
    env = make_env()
    assert env.device == torch.device("cpu")
    a, b = make_env().reset(), make_env().reset()
    torch.testing.assert_close(a["observation"], b["observation"])
    assert env._env.spec.id == "Pendulum-v1"


def test_make_env_seed_changes_reset_state():
    a = make_env("CartPole-v1", seed=0).reset()["observation"]
    b = make_env("CartPole-v1", seed=1).reset()["observation"]
    assert not torch.equal(a, b)


def test_make_env_render_gives_rgb_frames_without_pixels_in_td():
    env = make_env("CartPole-v1", render=True)
    td = env.reset()
    assert "pixels" not in td.keys()
    frame = env._env.render()
    assert isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[-1] == 3


def test_make_env_unknown_name_suggests():
    with pytest.raises(ValueError, match="Did you mean 'Pendulum-v1'"):
        make_env("Pendulm-v1")


def test_make_env_missing_device():
    with pytest.raises(ValueError, match="not available on this machine"):
        make_env(device="cuda:7")


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        check_seed(seed)
    with pytest.raises(ValueError, match="seed"):
        make_env(seed=seed)


def test_observation_names_known_and_fallback():
    from rltutor.envs import env_id, observation_names

    env = make_env("CartPole-v1")
    assert env_id(env) == "CartPole-v1"
    assert observation_names(env) == [
        "cart position", "cart velocity", "pole angle", "pole angular velocity"]
    assert observation_names(make_env())[2] == "ω (angular velocity)"
    assert observation_names("Pendulum-v1", 5) == [f"obs[{i}]" for i in range(5)]  # size differs
    assert observation_names("NoSuchEnv-v0", 2) == ["obs[0]", "obs[1]"]
