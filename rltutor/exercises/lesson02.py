"""Checks for lesson 02 (Actor, MLP, ConvNet and lazy modules).

    >>> from rltutor.exercises import lesson02 as ex
    >>> ex.check_arm_actor(None).status
    'not done yet'
"""

from __future__ import annotations

from typing import Any

import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModuleBase
from torch import nn
from torchrl.envs import EnvBase
from torchrl.modules import MLP, Actor, ConvNet

from rltutor.exercises import Feedback, correct, exercise, wrong

__all__ = ["arm_batch", "check_arm_actor", "check_stacked_actor"]

# Exercise 1: a two-joint arm reads its state and a goal, and writes two torques in [-1, 1].
ARM_OBS, ARM_GOAL, ARM_JOINTS = 4, 2, 2
ARM_KEYS = ("observation", "goal")
# Exercise 2: the stacked pixels hold this many RGB frames.
FRAMES, RGB = 2, 3


def arm_batch(n: int = 5, *, seed: int = 0, scale: float = 1.0) -> TensorDict:
    """Made-up inputs of a two-joint arm: ``observation`` (4 numbers) and ``goal`` (2).

    Drawn from a private generator, so the learner's random state stays put.

    Args:
        n: how many arm states (the batch size).
        seed: the generator's seed.
        scale: multiplies every number (large values probe an actor's bounds).

    >>> arm_batch(3)["goal"].shape
    torch.Size([3, 2])
    """
    gen = torch.Generator().manual_seed(seed)
    return TensorDict(
        observation=torch.randn(n, ARM_OBS, generator=gen) * scale,
        goal=torch.randn(n, ARM_GOAL, generator=gen) * scale,
        batch_size=[n],
    )


def _box(spec: Any) -> tuple[list[float], list[float]] | None:
    box = getattr(spec, "space", None)
    if box is None or not hasattr(box, "low"):
        return None
    low = torch.as_tensor(box.low).expand(spec.shape).flatten().tolist()
    high = torch.as_tensor(box.high).expand(spec.shape).flatten().tolist()
    return low, high


def _arm_spec_problem(arm_actor: Actor) -> Feedback | None:
    spec = arm_actor.spec.get("action", None)
    if spec is None:
        return wrong(
            "the actor carries no action spec",
            "describe the arm's action (its shape and bounds) with a spec and pass spec=...",
        )
    box = _box(spec)
    if tuple(spec.shape) != (ARM_JOINTS,) or box is None:
        return wrong(
            f"the actor's spec describes actions of shape {tuple(spec.shape)}, but the arm "
            f"has {ARM_JOINTS} joints, one torque each",
            "env.action_spec is Pendulum's; build a bounded spec for the arm yourself",
        )
    if box != ([-1.0] * ARM_JOINTS, [1.0] * ARM_JOINTS):
        return wrong(
            f"the spec's bounds are low={box[0]}, high={box[1]}, not [-1, 1] for each joint",
            "a bounded spec takes low, high and the shape of the action",
        )
    return None


def _first_linear_inputs(module: nn.Module) -> int | None:
    for m in module.modules():
        if isinstance(m, nn.Linear) and not isinstance(m, nn.LazyLinear):
            return m.in_features
    return None


@exercise("set `arm_actor` to an Actor that reads 'observation' and 'goal'")
def check_arm_actor(arm_actor: Any) -> Feedback:
    """Does ``arm_actor`` read the arm's state and goal and write 2 torques inside [-1, 1]?

    >>> from torchrl.data import Bounded
    >>> spec = Bounded(low=-1.0, high=1.0, shape=(2,))
    >>> actor = Actor(MLP(out_features=2, num_cells=[32]), in_keys=["observation", "goal"],
    ...               spec=spec, safe=True)
    >>> check_arm_actor(actor).status
    'correct'

    The lesson's MLP actor, copied, never sees the goal:

    >>> print(check_arm_actor(Actor(MLP(out_features=1), spec=spec)).message)
    the actor reads ['observation'] only: without the goal it cannot know where the arm should go
    """
    if not isinstance(arm_actor, Actor):
        hint = (
            "wrap the network: Actor(your_mlp, in_keys=[...], spec=...)"
            if isinstance(arm_actor, nn.Module)
            else "build it with torchrl.modules.Actor(...)"
        )
        return wrong(f"your answer is a {type(arm_actor).__name__}, not an Actor", hint)
    in_keys = list(arm_actor.in_keys)
    if "goal" not in in_keys:
        return wrong(
            f"the actor reads {in_keys} only: without the goal it cannot know where the arm "
            "should go",
            "an Actor's in_keys can name several entries; the network then gets one tensor "
            "per key",
        )
    if set(in_keys) != set(ARM_KEYS):
        missing = sorted(set(ARM_KEYS) - set(in_keys))
        return wrong(
            f"the actor reads {in_keys}"
            + (f": it never sees {missing}" if missing else ", but the arm has only "
               "'observation' and 'goal'"),
            "the arm's TensorDict holds 'observation' (its state) and 'goal'",
        )
    if list(arm_actor.out_keys) != ["action"]:
        return wrong(f"the actor writes {list(arm_actor.out_keys)}, not 'action'",
                     "leave out_keys out: an Actor writes 'action' by default")
    problem = _arm_spec_problem(arm_actor)
    if problem is not None:
        return problem
    if not any(isinstance(m, MLP) for m in arm_actor.modules()):
        return wrong("there is no MLP inside the actor",
                     "build the network with torchrl.modules.MLP(...)")
    loud = arm_batch(256, seed=1, scale=100.0)
    moved = loud.clone()
    moved["goal"] = -moved["goal"]
    # lazy layers draw their weights on this first call: keep the learner's RNG untouched
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        # the network alone first: a safe actor cannot project a wrongly shaped action
        raw = arm_actor.module(*(loud[key] for key in arm_actor.in_keys))
        if isinstance(raw, torch.Tensor) and raw.shape == (256, ARM_JOINTS):
            raw = None
            action = arm_actor(loud)["action"]
            other = arm_actor(moved)["action"]
    if raw is not None:
        per_step = raw.shape[-1] if isinstance(raw, torch.Tensor) and raw.dim() > 1 else 1
        return wrong(
            f"each action holds {per_step} number{'s' if per_step != 1 else ''}; the arm "
            f"has {ARM_JOINTS} joints",
            "the MLP's last layer sets how many numbers an action holds",
        )
    largest = float(action.abs().max())
    if largest > 1.0 + 1e-6:
        return wrong(
            f"on large inputs the torques reach {largest:.1f}: nothing keeps them inside the "
            "spec's [-1, 1]",
            "a spec describes the bounds; the actor must also keep what it writes inside "
            "them (one of this lesson's actors did)",
        )
    if torch.equal(action, other):
        return wrong("the action does not change when the goal does",
                     "the network must use the goal tensor it is given")
    inputs = _first_linear_inputs(arm_actor)
    joined = (f" The MLP joined the two inputs into {inputs} numbers per step."
              if inputs == ARM_OBS + ARM_GOAL else "")
    return correct(
        f"two torques per step, inside [-1, 1] even for huge inputs, and they follow the "
        f"goal.{joined}"
    )


def _consecutive(root: torch.Tensor, nxt: torch.Tensor) -> bool:
    # Older frame first (CatFrames' order) or newest first: either way one step shifts it.
    old_first = torch.equal(nxt[..., :RGB, :, :], root[..., RGB:, :, :])
    new_first = torch.equal(nxt[..., RGB:, :, :], root[..., :RGB, :, :])
    return old_first or new_first


@exercise("set `stacked_env` and `stacked_actor`: two frames in, one torque out")
def check_stacked_actor(stacked_actor: Any, stacked_env: Any) -> Feedback:
    """Does ``stacked_env`` give the last 2 frames as 6 channels, and ``stacked_actor`` read them?

    The nearest cell of the lesson, ``pixel_actor`` on ``pixel_env``, sees one frame:

    >>> from torchrl.envs import GymEnv, ToTensorImage, TransformedEnv
    >>> net = nn.Sequential(ConvNet(num_cells=[8, 16]), MLP(out_features=1))
    >>> actor = Actor(net, in_keys=["pixels"])
    >>> env = TransformedEnv(GymEnv("Pendulum-v1", from_pixels=True),  # doctest: +SKIP
    ...                      ToTensorImage())
    >>> print(check_stacked_actor(actor, env).message)  # renders  # doctest: +SKIP
    each observation holds one frame (3 channels): a still picture shows where the rod is, ...
    """
    if not isinstance(stacked_env, EnvBase):
        return wrong(
            f"`stacked_env` is a {type(stacked_env).__name__}, not an environment",
            "build it like pixel_env: TransformedEnv(GymEnv(...), Compose(...))",
        )
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        pixels = stacked_env.reset().get("pixels", None)
    if pixels is None:
        return wrong("`stacked_env` gives no 'pixels'",
                     "start from pixel_env's recipe (from_pixels=True)")
    shape = tuple(pixels.shape)
    if len(shape) != 3 or shape[0] % RGB:
        return wrong(f"the pixels have shape {shape}, not (channels, height, width)",
                     "keep ToTensorImage: it puts the channels first")
    if shape[0] == RGB and shape[1] == shape[2]:
        return wrong(
            "each observation holds one frame (3 channels): a still picture shows where the "
            "rod is, not which way it swings",
            "add a transform to the environment that keeps the last frames and concatenates "
            "them along a dimension",
        )
    if shape[0] == RGB:
        return wrong(
            f"the pixels have shape {shape}: the frames were joined into one stretched "
            "picture, so the first convolution still sees 3 channels",
            "join the frames along the dimension that holds the channels",
        )
    if shape[0] != FRAMES * RGB:
        return wrong(f"the pixels hold {shape[0] // RGB} frames ({shape[0]} channels); the "
                     f"task asks for {FRAMES}", "set how many frames the transform keeps")
    if not isinstance(stacked_actor, TensorDictModuleBase):
        return wrong(f"`stacked_actor` is a {type(stacked_actor).__name__}, not an Actor",
                     "wrap the network: Actor(network, in_keys=[...], spec=...)")
    if list(stacked_actor.in_keys) != ["pixels"]:
        return wrong(f"the actor reads {list(stacked_actor.in_keys)}, not the stacked 'pixels'",
                     "Actor reads 'observation' by default: name the image key")
    if not any(isinstance(m, ConvNet) for m in stacked_actor.modules()):
        return wrong("there is no ConvNet inside the actor",
                     "start the network with torchrl.modules.ConvNet(...) to read the frames")
    # lazy layers draw their weights on this first call: keep the learner's RNG untouched
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        rollout_td = stacked_env.rollout(4, stacked_actor)
    action = rollout_td["action"]
    if tuple(action.shape[1:]) != tuple(stacked_env.action_spec.shape):
        return wrong(f"each step wrote an action of shape {tuple(action.shape[1:])}, expected "
                     f"{tuple(stacked_env.action_spec.shape)}",
                     "end the network with an MLP head that outputs one torque")
    root, nxt = rollout_td["pixels"], rollout_td["next", "pixels"]
    halves_equal = all(torch.equal(p[:RGB], p[RGB:]) for p in nxt)
    if halves_equal:
        return wrong("both frames of every observation are the same picture: the rod never "
                     "moves between them", "the second frame must be the one before")
    if not all(_consecutive(r, n) for r, n in zip(root, nxt)):
        return wrong("the two frames are not consecutive: after a step, the newer frame of "
                     "one observation should reappear as the older frame of the next",
                     "let the transform keep the last 2 frames the environment produced")
    first_conv = next(m for m in stacked_actor.modules() if isinstance(m, nn.Conv2d))
    return correct(
        f"each observation holds {FRAMES} consecutive frames ({tuple(root.shape[1:])}), the "
        f"first convolution reads {first_conv.in_channels} channels, one torque out. The "
        "difference between the frames is where the network can see the swing."
    )
