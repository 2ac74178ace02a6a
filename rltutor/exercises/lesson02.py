"""Checks for lesson 02 (Actor, MLP, ConvNet and lazy modules).

    >>> from rltutor.exercises import lesson02 as ex
    >>> ex.check_mlp_actor(None).status
    'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModuleBase
from torch import nn
from torchrl.modules import MLP, Actor, ConvNet

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["check_mlp_actor", "check_pixel_actor"]

# Exercise 1: an Actor around an MLP with these hidden layers and this activation.
HIDDEN = (32, 32)
ACTIVATION = nn.ReLU
OBS_SIZE, ACTION_SIZE = 3, 1  # Pendulum-v1
# Exercise 2: the ConvNet's convolution layers have these output channels.
CHANNELS = (8, 16, 16)


def _linear_widths(module: nn.Module) -> list[int]:
    return [m.out_features for m in module.modules() if isinstance(m, nn.Linear)]


@exercise("set `my_mlp_actor` to an Actor wrapping an MLP")
def check_mlp_actor(mlp_actor: Any) -> Feedback:
    """Is ``mlp_actor`` an ``Actor`` with the action spec around an MLP 32-ReLU-32-ReLU-1?

    >>> from torchrl.data import Bounded
    >>> spec = Bounded(-2.0, 2.0, shape=(1,))  # Pendulum's action spec
    >>> actor = Actor(MLP(out_features=1, num_cells=[32, 32], activation_class=nn.ReLU),
    ...               spec=spec)
    >>> check_mlp_actor(actor).status
    'correct'
    """
    if not isinstance(mlp_actor, Actor):
        hint = (
            "wrap the MLP: Actor(your_mlp, spec=env.action_spec)"
            if isinstance(mlp_actor, nn.Module)
            else "build it with torchrl.modules.Actor(...)"
        )
        return wrong(f"your answer is a {type(mlp_actor).__name__}, not an Actor", hint)
    if list(mlp_actor.in_keys) != ["observation"] or list(mlp_actor.out_keys) != ["action"]:
        return wrong(
            f"the actor reads {list(mlp_actor.in_keys)} and writes {list(mlp_actor.out_keys)}",
            "leave in_keys and out_keys out: Actor's defaults are exactly what Pendulum needs",
        )
    if mlp_actor.spec.get("action", None) is None:
        return wrong(
            "the actor does not know the action spec",
            "pass spec=env.action_spec so the actor knows the shape and bounds of an action",
        )
    if not any(isinstance(m, MLP) for m in mlp_actor.modules()):
        return wrong(
            "there is no MLP inside the actor",
            "build the network with torchrl.modules.MLP(out_features=1, num_cells=[32, 32], ...)",
        )
    widths = _linear_widths(mlp_actor)
    if widths != [*HIDDEN, ACTION_SIZE]:
        return wrong(
            f"the linear layers have {widths} outputs, expected {[*HIDDEN, ACTION_SIZE]}",
            "num_cells lists the hidden layer widths; out_features is the action size (1)",
        )
    activations = {type(m).__name__ for m in mlp_actor.modules()} & {
        "Tanh", "ReLU", "ELU", "GELU", "LeakyReLU", "Sigmoid", "SiLU"
    }
    if activations != {ACTIVATION.__name__}:
        return wrong(
            f"the activations are {sorted(activations) or 'missing'}, expected ReLU only",
            "MLP uses Tanh unless you pass activation_class=nn.ReLU",
        )
    obs = TensorDict(observation=torch.zeros(4, OBS_SIZE), batch_size=[4])
    # lazy layers draw their weights on this first call: keep the learner's RNG untouched
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        action = mlp_actor(obs)["action"]
    if action.shape != (4, ACTION_SIZE):
        return wrong(
            f"4 observations gave actions of shape {tuple(action.shape)}, expected (4, 1)",
            "the MLP's out_features must be the action size",
        )
    return correct("an Actor around Linear(32)-ReLU-Linear(32)-ReLU-Linear(1), spec included.")


@exercise("set `my_pixel_actor` to an Actor that reads 'pixels'")
def check_pixel_actor(pixel_actor: Any, pixel_env: Any) -> Feedback:
    """Does ``pixel_actor`` read ``pixels`` through a ConvNet (8, 16, 16 channels) to an action?

    The likeliest slip, keeping Actor's default key, is caught before any frame is drawn:

    >>> print(check_pixel_actor(Actor(MLP(out_features=1)), None))
    ✗ Not yet right: the actor reads ['observation'], but it should see only the image
      Hint: Actor reads 'observation' by default: pass in_keys=['pixels']

    A right answer, checked on frames rendered by pygame (over a second, so not run here):

    >>> from torchrl.envs import GymEnv, ToTensorImage, TransformedEnv
    >>> net = nn.Sequential(ConvNet(num_cells=[8, 16, 16]), MLP(out_features=1))
    >>> actor = Actor(net, in_keys=["pixels"])
    >>> env = TransformedEnv(GymEnv("Pendulum-v1", from_pixels=True),  # renders  # doctest: +SKIP
    ...                      ToTensorImage())
    >>> check_pixel_actor(actor, env).status  # renders a 500x500 frame  # doctest: +SKIP
    'correct'
    """
    if not isinstance(pixel_actor, TensorDictModuleBase):
        return wrong(
            f"your answer is a {type(pixel_actor).__name__}, not a TensorDict module",
            "wrap the network: Actor(network, in_keys=['pixels'], spec=pixel_env.action_spec)",
        )
    if list(pixel_actor.in_keys) != ["pixels"]:
        return wrong(
            f"the actor reads {list(pixel_actor.in_keys)}, but it should see only the image",
            "Actor reads 'observation' by default: pass in_keys=['pixels']",
        )
    if not any(isinstance(m, ConvNet) for m in pixel_actor.modules()):
        return wrong(
            "there is no ConvNet inside the actor",
            "start the network with torchrl.modules.ConvNet(...) to read the image",
        )
    # lazy layers draw their weights on this first call: keep the learner's RNG untouched
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        td = pixel_actor(pixel_env.reset())
    channels = [m.out_channels for m in pixel_actor.modules() if isinstance(m, nn.Conv2d)]
    if channels != list(CHANNELS):
        return wrong(
            f"the convolutions have {channels} output channels, expected {list(CHANNELS)}",
            "ConvNet's num_cells lists the channels of each convolution layer",
        )
    action = td.get("action", None)
    expected = tuple(pixel_env.action_spec.shape)
    if action is None or tuple(action.shape) != expected:
        got = "no 'action'" if action is None else f"an action of shape {tuple(action.shape)}"
        return wrong(
            f"one frame gave {got}, expected shape {expected}",
            "put an MLP(out_features=1, ...) head after the ConvNet",
        )
    return correct(
        f"one {tuple(td['pixels'].shape)} frame in, one torque out ({float(action):+.3f})."
    )
