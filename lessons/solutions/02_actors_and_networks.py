"""Solutions to the exercises of lesson 02 (try them yourself first)."""

from torch import nn
from torchrl.modules import MLP, Actor, ConvNet


def solve_mlp_actor(env):
    """Actor's default keys fit Pendulum; the spec tells it what an action looks like."""
    network = MLP(out_features=1, num_cells=[32, 32], activation_class=nn.ReLU)
    return Actor(network, spec=env.action_spec)


def solve_pixel_actor(pixel_env):
    """A ConvNet (8, 16, 16 channels) reads the image, an MLP head turns it into one torque."""
    network = nn.Sequential(
        ConvNet(num_cells=[8, 16, 16], kernel_sizes=4, strides=2),
        MLP(out_features=1, num_cells=[64]),
    )
    return Actor(network, in_keys=["pixels"], spec=pixel_env.action_spec)
