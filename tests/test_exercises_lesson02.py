"""Lesson 02's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import load_solution
from torch import nn
from torchrl.envs import Compose, GymEnv, ToTensorImage, TransformedEnv, UnaryTransform
from torchrl.modules import MLP, Actor, ConvNet

from rltutor.exercises import lesson02 as ex

sol = load_solution("02_actors_and_networks")


def _shrink(pixels: torch.Tensor) -> torch.Tensor:
    flat = pixels.reshape(-1, *pixels.shape[-3:])
    small = F.interpolate(flat, size=(64, 64), mode="area")
    return small.reshape(*pixels.shape[:-3], *small.shape[-3:])


@pytest.fixture(scope="module")
def env():
    return GymEnv("Pendulum-v1")


@pytest.fixture(scope="module")
def pixel_env():
    base = GymEnv("Pendulum-v1", from_pixels=True, pixels_only=False)
    shrink = UnaryTransform(in_keys=["pixels"], out_keys=["pixels"], fn=_shrink)
    env = TransformedEnv(base, Compose(ToTensorImage(), shrink))
    env.set_seed(0)
    return env


def test_unanswered_is_not_done(pixel_env):
    assert ex.check_mlp_actor(None).status == "not done yet"
    assert ex.check_pixel_actor(None, pixel_env).status == "not done yet"


def test_mlp_solution_passes(env):
    feedback = ex.check_mlp_actor(sol.solve_mlp_actor(env))
    assert feedback.passed, feedback


def test_bare_mlp_is_told_to_wrap(env):
    feedback = ex.check_mlp_actor(MLP(out_features=1, num_cells=[32, 32]))
    assert feedback.status == "wrong"
    assert "Actor(" in feedback.hint


def test_missing_spec_is_wrong():
    actor = Actor(MLP(out_features=1, num_cells=[32, 32], activation_class=nn.ReLU))
    feedback = ex.check_mlp_actor(actor)
    assert feedback.status == "wrong"
    assert "spec" in feedback.message


def test_default_activation_is_wrong(env):
    actor = Actor(MLP(out_features=1, num_cells=[32, 32]), spec=env.action_spec)
    feedback = ex.check_mlp_actor(actor)
    assert feedback.status == "wrong"
    assert "Tanh" in feedback.message and "activation_class" in feedback.hint


def test_wrong_widths_are_listed(env):
    actor = Actor(
        MLP(out_features=1, num_cells=[64], activation_class=nn.ReLU), spec=env.action_spec
    )
    feedback = ex.check_mlp_actor(actor)
    assert feedback.status == "wrong"
    assert "[64, 1]" in feedback.message


def test_plain_linear_actor_has_no_mlp(env):
    feedback = ex.check_mlp_actor(Actor(nn.LazyLinear(1), spec=env.action_spec))
    assert feedback.status == "wrong"
    assert "no MLP" in feedback.message


def test_pixel_solution_passes(pixel_env):
    feedback = ex.check_pixel_actor(sol.solve_pixel_actor(pixel_env), pixel_env)
    assert feedback.passed, feedback


def test_pixel_actor_reading_observation_is_wrong(pixel_env):
    net = nn.Sequential(ConvNet(), MLP(out_features=1))
    feedback = ex.check_pixel_actor(Actor(net, spec=pixel_env.action_spec), pixel_env)
    assert feedback.status == "wrong"
    assert "in_keys=['pixels']" in feedback.hint


def test_pixel_actor_without_convnet_is_wrong(pixel_env):
    net = nn.Sequential(nn.Flatten(-3), MLP(out_features=1))
    actor = Actor(net, in_keys=["pixels"], spec=pixel_env.action_spec)
    feedback = ex.check_pixel_actor(actor, pixel_env)
    assert feedback.status == "wrong"
    assert "ConvNet" in feedback.message


def test_pixel_actor_with_default_convnet_has_wrong_channels(pixel_env):
    net = nn.Sequential(ConvNet(), MLP(out_features=1))
    actor = Actor(net, in_keys=["pixels"], spec=pixel_env.action_spec)
    feedback = ex.check_pixel_actor(actor, pixel_env)
    assert feedback.status == "wrong"
    assert "[32, 32, 32]" in feedback.message and "num_cells" in feedback.hint


def test_pixel_actor_without_head_gives_wrong_shape(pixel_env):
    actor = Actor(ConvNet(num_cells=[8, 16, 16]), in_keys=["pixels"], spec=pixel_env.action_spec)
    feedback = ex.check_pixel_actor(actor, pixel_env)
    assert feedback.status == "wrong"
    assert "expected shape (1,)" in feedback.message and "MLP" in feedback.hint
