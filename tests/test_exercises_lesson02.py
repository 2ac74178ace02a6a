"""Lesson 02's checks: the solutions pass, None is "not done yet", typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from conftest import load_solution
from torch import nn
from torchrl.data import Bounded
from torchrl.envs import CatFrames, Compose, GymEnv, ToTensorImage, TransformedEnv, UnaryTransform
from torchrl.modules import MLP, Actor, ConvNet

from rltutor.exercises import lesson02 as ex

sol = load_solution("02_actors_and_networks")


def _shrink(pixels: torch.Tensor) -> torch.Tensor:
    return pixels[..., ::8, ::8, :]  # the lesson's shrink: every 8th row and column


def _pixel_env(*extra) -> TransformedEnv:
    base = GymEnv("Pendulum-v1", from_pixels=True, pixels_only=False)
    shrink = UnaryTransform(in_keys=["pixels"], out_keys=["pixels"], fn=_shrink)
    env = TransformedEnv(base, Compose(shrink, ToTensorImage(), *extra))
    env.set_seed(0)
    return env


def _conv_actor(env) -> Actor:
    net = nn.Sequential(ConvNet(num_cells=[8, 16], kernel_sizes=4, strides=2),
                        MLP(out_features=1, num_cells=[32]))
    return Actor(net, in_keys=["pixels"], spec=env.action_spec)


@pytest.fixture(scope="module")
def env():
    return GymEnv("Pendulum-v1")


@pytest.fixture(scope="module")
def pixel_env():
    return _pixel_env()


def _arm_spec():
    return Bounded(low=-1.0, high=1.0, shape=(2,))


def test_unanswered_is_not_done(pixel_env):
    assert ex.check_arm_actor(None).status == "not done yet"
    assert ex.check_stacked_actor(None, pixel_env).status == "not done yet"


def test_arm_batch_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    first = ex.arm_batch(4)
    assert torch.equal(torch.rand(1), expected)
    assert (first == ex.arm_batch(4)).all()
    assert set(first.keys()) == {"observation", "goal"}


# --------------------------------------------------------------- exercise 1: arm_actor


def test_arm_actor_solution_passes():
    feedback = ex.check_arm_actor(sol.solve_arm_actor())
    assert feedback.passed, feedback
    assert "6 numbers" in feedback.message  # the MLP joined 4 + 2 inputs


def test_arm_actor_check_leaves_global_rng_alone():
    actor = sol.solve_arm_actor()
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    ex.check_arm_actor(actor)
    assert torch.equal(torch.rand(1), expected)


def test_arm_actor_nearest_cell_mlp_actor_copied_is_wrong(env):
    # the lesson's mlp / mlp_actor cells with 64, 64, Tanh -> 32, 32, ReLU: what passed before
    actor = Actor(MLP(out_features=1, num_cells=[32, 32], activation_class=nn.ReLU),
                  spec=env.action_spec)
    feedback = ex.check_arm_actor(actor)
    assert feedback.status == "wrong"
    assert "without the goal" in feedback.message
    assert "goal" not in feedback.hint  # says what is missing, not the line to write


def test_arm_actor_nearest_cell_with_both_keys_but_pendulum_spec_is_wrong(env):
    actor = Actor(MLP(out_features=2, num_cells=[32, 32]), in_keys=["observation", "goal"],
                  spec=env.action_spec, safe=True)
    feedback = ex.check_arm_actor(actor)
    assert feedback.status == "wrong"
    assert "shape (1,)" in feedback.message and "Pendulum's" in feedback.hint


def test_arm_actor_mistake_unbounded_torques_are_wrong():
    actor = Actor(MLP(out_features=2, num_cells=[32]), in_keys=["observation", "goal"],
                  spec=_arm_spec())
    feedback = ex.check_arm_actor(actor)
    assert feedback.status == "wrong"
    assert "nothing keeps them inside" in feedback.message
    assert "safe" not in feedback.hint


def test_arm_actor_mistake_one_torque_is_wrong():
    actor = Actor(MLP(out_features=1, num_cells=[32]), in_keys=["observation", "goal"],
                  spec=_arm_spec(), safe=True)
    feedback = ex.check_arm_actor(actor)
    assert feedback.status == "wrong"
    assert "holds 1 number; the arm has 2 joints" in feedback.message


def test_arm_actor_mistake_wrong_bounds_are_named():
    spec = Bounded(low=-2.0, high=2.0, shape=(2,))
    actor = Actor(MLP(out_features=2), in_keys=["observation", "goal"], spec=spec, safe=True)
    feedback = ex.check_arm_actor(actor)
    assert feedback.status == "wrong"
    assert "not [-1, 1] for each joint" in feedback.message


def test_arm_actor_mistake_goal_only_is_wrong():
    actor = Actor(MLP(out_features=2), in_keys=["goal"], spec=_arm_spec(), safe=True)
    feedback = ex.check_arm_actor(actor)
    assert feedback.status == "wrong"
    assert "it never sees ['observation']" in feedback.message


def test_arm_actor_mistake_goal_ignored_is_wrong():
    class StateOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = MLP(out_features=2, num_cells=[16])

        def forward(self, observation, goal):
            return torch.tanh(self.mlp(observation))

    actor = Actor(StateOnly(), in_keys=["observation", "goal"], spec=_arm_spec())
    feedback = ex.check_arm_actor(actor)
    assert feedback.status == "wrong"
    assert "does not change when the goal does" in feedback.message


def test_arm_actor_mistake_bare_mlp_is_told_to_wrap():
    feedback = ex.check_arm_actor(MLP(out_features=2))
    assert feedback.status == "wrong"
    assert "Actor(" in feedback.hint


# ----------------------------------------------------------- exercise 2: stacked_actor


def test_stacked_actor_solution_passes():
    stacked_actor, stacked_env = sol.solve_stacked_actor()
    feedback = ex.check_stacked_actor(stacked_actor, stacked_env)
    assert feedback.passed, feedback
    assert "reads 6 channels" in feedback.message


def test_stacked_actor_check_leaves_global_rng_alone():
    stacked_actor, stacked_env = sol.solve_stacked_actor()
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    ex.check_stacked_actor(stacked_actor, stacked_env)
    assert torch.equal(torch.rand(1), expected)


def test_stacked_actor_nearest_cell_pixel_actor_copied_is_wrong(pixel_env):
    # the lesson's cnn / pixel_actor cells with new channel counts: what passed before
    feedback = ex.check_stacked_actor(_conv_actor(pixel_env), pixel_env)
    assert feedback.status == "wrong"
    assert "one frame (3 channels)" in feedback.message
    assert "CatFrames" not in feedback.hint and "dim=" not in feedback.hint


def test_stacked_actor_mistake_frames_side_by_side_are_wrong():
    env = _pixel_env(CatFrames(N=2, dim=-1, in_keys=["pixels"]))
    feedback = ex.check_stacked_actor(_conv_actor(env), env)
    assert feedback.status == "wrong"
    assert "one stretched picture" in feedback.message and "channels" in feedback.hint


def test_stacked_actor_mistake_same_frame_twice_is_wrong():
    twice = UnaryTransform(in_keys=["pixels"], out_keys=["pixels"],
                           fn=lambda p: torch.cat([p, p], dim=-3))
    env = _pixel_env(twice)
    feedback = ex.check_stacked_actor(_conv_actor(env), env)
    assert feedback.status == "wrong"
    assert "same picture" in feedback.message


def test_stacked_actor_mistake_three_frames_are_counted():
    env = _pixel_env(CatFrames(N=3, dim=-3, in_keys=["pixels"]))
    feedback = ex.check_stacked_actor(_conv_actor(env), env)
    assert feedback.status == "wrong"
    assert "hold 3 frames (9 channels)" in feedback.message


def test_stacked_actor_mistake_reading_observation_is_wrong():
    env = _pixel_env(CatFrames(N=2, dim=-3, in_keys=["pixels"]))
    net = nn.Sequential(ConvNet(), MLP(out_features=1))
    feedback = ex.check_stacked_actor(Actor(net, spec=env.action_spec), env)
    assert feedback.status == "wrong"
    assert "reads ['observation']" in feedback.message


def test_stacked_actor_mistake_without_head_gives_wrong_shape():
    env = _pixel_env(CatFrames(N=2, dim=-3, in_keys=["pixels"]))
    actor = Actor(ConvNet(num_cells=[8, 16]), in_keys=["pixels"], spec=env.action_spec)
    feedback = ex.check_stacked_actor(actor, env)
    assert feedback.status == "wrong"
    assert "expected (1,)" in feedback.message


def test_stacked_actor_mistake_not_an_env():
    stacked_actor, _ = sol.solve_stacked_actor()
    feedback = ex.check_stacked_actor(stacked_actor, "pixel_env")
    assert feedback.status == "wrong"
    assert "not an environment" in feedback.message
