"""Solutions to the exercises of lesson 02 (try them yourself first)."""

from torch import nn
from torchrl.data import Bounded
from torchrl.envs import CatFrames, Compose, GymEnv, ToTensorImage, TransformedEnv, UnaryTransform
from torchrl.modules import MLP, Actor, ConvNet


def solve_arm_actor():
    """Two in_keys give the MLP two tensors, which it concatenates; safe=True keeps the spec."""
    arm_spec = Bounded(low=-1.0, high=1.0, shape=(2,))
    network = MLP(out_features=2, num_cells=[64, 64])
    return Actor(network, in_keys=["observation", "goal"], spec=arm_spec, safe=True)


def _shrink(pixels):
    return pixels[..., ::8, ::8, :]


def solve_stacked_actor():
    """pixel_env's recipe plus CatFrames (the last 2 frames joined on the channel dim, -3),
    and an actor whose lazy ConvNet learns its 6 input channels on the first call.

    Returns (stacked_actor, stacked_env), the two answers the check takes.
    """
    stacked_env = TransformedEnv(
        GymEnv("Pendulum-v1", from_pixels=True, pixels_only=False),
        Compose(
            UnaryTransform(in_keys=["pixels"], out_keys=["pixels"], fn=_shrink),
            ToTensorImage(),
            CatFrames(N=2, dim=-3, in_keys=["pixels"]),
        ),
    )
    network = nn.Sequential(
        ConvNet(num_cells=[16, 32], kernel_sizes=[8, 4], strides=[4, 2]),
        MLP(out_features=1, num_cells=[64]),
    )
    stacked_actor = Actor(network, in_keys=["pixels"], spec=stacked_env.action_spec)
    return stacked_actor, stacked_env
