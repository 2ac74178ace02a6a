# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 02 — Actors and the networks inside them
#
# Lesson 01 wrapped a linear layer by hand. TorchRL ships the pieces you reach for every
# day: an `Actor` wrapper that already knows the usual keys, and ready-made networks (`MLP`
# for vectors, `ConvNet` for images) that size themselves on the first call.
#
# **What you will learn**
#
# - what `Actor` adds to `TensorDictModule`: default keys and the action `spec` (and `safe=True`);
# - how `MLP(num_cells=..., activation_class=...)` drops in as the network of an actor;
# - what a lazy module is, and the exact moment its parameters get a shape;
# - how to read pixels from a rendered environment with a `ConvNet` and an MLP head.

# %%
import ipywidgets as widgets
import torch
from torch import nn
from torchrl.envs import Compose, GymEnv, ToTensorImage, TransformedEnv, UnaryTransform
from torchrl.modules import MLP, Actor, ConvNet

import rltutor
from rltutor.exercises import lesson02 as ex
from rltutor.plots import PALETTE, make_picture

torch.manual_seed(0)
env = GymEnv("Pendulum-v1")
env.set_seed(0)  # GymEnv + set_seed, as in lesson 01 (rltutor.make_env does both)
env

# %% [markdown]
# ## `Actor`: a TensorDictModule with sensible defaults
#
# An `Actor` is a `TensorDictModule` whose keys default to what almost every environment
# uses: it reads `observation` and writes `action`. Give it the environment's action spec
# too, so that the actor carries the description of a valid action with it.

# %%
linear = nn.LazyLinear(1)
actor = Actor(linear, spec=env.action_spec)
print("in_keys:", actor.in_keys, " out_keys:", actor.out_keys)
rltutor.dataflow(actor)

# %% [markdown]
# The spec is not only documentation. With `safe=True` the actor projects every action it
# writes back into the spec's bounds. Here two actors share the **same** layer; we feed
# them an exaggerated observation so the raw torque is far outside [-2, 2].

# %%
safe_actor = Actor(linear, spec=env.action_spec, safe=True)
wild = env.reset()
wild["observation"] = wild["observation"] * 100
print("Actor            ->", actor(wild.clone())["action"].item())
print("Actor(safe=True) ->", safe_actor(wild.clone())["action"].item())
assert safe_actor(wild.clone())["action"].abs().item() <= 2.0

# %% [markdown]
# ## `MLP`: a network in one line
#
# `MLP` builds Linear → activation → Linear → … for you. `num_cells` lists the width of
# each hidden layer, `out_features` the size of the output (one torque), and
# `activation_class` the non-linearity (Tanh unless you say otherwise). Leave out
# `in_features` and the first layer is a `LazyLinear`.

# %%
mlp = MLP(out_features=1, num_cells=[64, 64], activation_class=nn.Tanh)
mlp

# %% [markdown]
# ## Lazy modules: shapes arrive with the first batch
#
# A lazy layer cannot know its weight shape until it has seen an input, so its parameters
# start as `UninitializedParameter` placeholders; even asking for their shape raises an
# error. This little helper lists each parameter with its shape, or `?` while it is lazy.

# %%
def describe(module):
    for name, p in module.named_parameters():
        lazy = isinstance(p, nn.parameter.UninitializedParameter)
        print(f"{name:9} {type(p).__name__:22} {'?' if lazy else tuple(p.shape)}")


describe(mlp)

# %% [markdown]
# Put the MLP in an actor and call it once. The first layer sees 3 observation numbers and
# turns into a real `Parameter` of shape (64, 3); the other layers never were lazy.

# %%
mlp_actor = Actor(mlp, spec=env.action_spec)
mlp_actor(env.reset())
describe(mlp)
assert mlp[0].weight.shape == (64, 3)

# %% [markdown]
# Practical consequence: run one batch through a lazy network **before** handing its
# parameters to an optimizer or counting them. After that it is an ordinary network:

# %%
print("parameters:", sum(p.numel() for p in mlp_actor.parameters()))

# %% [markdown]
# ## The MLP actor at work
#
# `mlp_actor` is a drop-in replacement for the linear policy of lesson 01: same keys, same
# rollout call. (`rltutor.make_actor(env, num_cells=(64, 64))` builds the same kind of actor
# in one call, sized from the specs; we use it in later lessons.)

# %%
rollout_td = env.rollout(200, mlp_actor)
rltutor.plot_rollout(rollout_td, env=env)

# %% [markdown]
# Numbers are one view; the pendulum itself is another. `rltutor.animate` replays the
# policy in an environment that renders frames (`rltutor.make_env(..., render=True)` builds
# a seeded `GymEnv` with gymnasium's `render_mode="rgb_array"`); press ▶ or drag the slider.
# Frames are big (500×500×3 bytes each), so `downscale=3` keeps every third pixel.

# %%
render_env = rltutor.make_env("Pendulum-v1", seed=0, render=True)
rltutor.animate(render_env, mlp_actor, steps=60, downscale=3)

# %% [markdown]
# ## Play with it: `safe` and a louder network
#
# Untrained, the MLP asks for small torques, so `safe=True` has nothing to do. The panel
# below builds a fresh MLP actor (seeded), multiplies its last layer's weights by
# **gain**, rolls it out for 200 steps and draws the network's raw output (dashed)
# beside the action the actor wrote. Turn the gain up, then tick **safe**.
#
# Across seeds 0-9: at gain 1 no network asks for more than 0.7; at gain 50, with safe
# off, nine seeds of ten ask for more than 2 (seed 4 stays quiet); with safe on, the
# written action never leaves [-2, 2], at any gain and seed: it is clipped flat at the
# bound while the raw output goes on.

# %%
def plot_loud_actor(gain=1.0, safe=False, seed=0):
    torch.manual_seed(seed)
    mlp = MLP(out_features=1, num_cells=[64, 64])
    actor = Actor(mlp, spec=env.action_spec, safe=safe)
    actor(env.reset())  # the lazy first layer gets its shape
    with torch.no_grad():
        mlp[-1].weight.mul_(gain)
        env.set_seed(seed)
        td = env.rollout(200, actor)
        raw = mlp(td["observation"])
    return torque_figure(raw, td["action"], f"gain={gain:g}, safe={safe}, seed={seed}")


# %%
def torque_figure(raw, written, title):
    fig, ax = make_picture(figsize=(8, 2.6))
    ax.plot(raw.squeeze(-1), "k--", lw=1, label="network output")
    ax.plot(written.squeeze(-1), color=PALETTE[0], label="action written")
    ax.axhspan(-2, 2, color=PALETTE[2], alpha=0.12, label="action spec [-2, 2]")
    ax.set(xlabel="step", ylabel="torque", title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


# %%
rltutor.interact_figure(
    plot_loud_actor, gain=widgets.FloatSlider(value=1, min=1, max=50, step=1),
    safe=widgets.Checkbox(value=False), seed=widgets.IntSlider(value=0, min=0, max=9),
)

# %% [markdown]
# ## Pixels in, torque out
#
# Ask gymnasium for images with `from_pixels=True` (`pixels_only=False` keeps the vector
# observation too). Raw frames are 500×500 RGB images of bytes (uint8, channels last); two
# transforms make them network-ready: a `UnaryTransform` shrinks them to 63×63 by keeping
# every 8th row and column, and `ToTensorImage` turns them into floats in [0, 1],
# channels first. (TorchRL's `Resize` transform would average instead of skipping, but it
# needs torchvision, which is not among this course's pinned dependencies.)
#
# Pixels are expensive: rendering takes milliseconds per step and a raw frame is 750 kB
# (3 MB once converted to floats). So we shrink first, while the frame is still bytes
# (the float conversion then touches 1/64 of the pixels), and keep pixel rollouts short.

# %%
def shrink(pixels):  # [..., 500, 500, 3] bytes -> [..., 63, 63, 3]: every 8th row and column
    return pixels[..., ::8, ::8, :]


# %%
render_env.close()  # done with the animation's renderer: free its frame buffers first
pixel_env = TransformedEnv(
    GymEnv("Pendulum-v1", from_pixels=True, pixels_only=False),
    Compose(UnaryTransform(in_keys=["pixels"], out_keys=["pixels"], fn=shrink), ToTensorImage()),
)
pixel_env.set_seed(0)
pixel_td = pixel_env.reset()
rltutor.show(pixel_td)

# %% [markdown]
# This is what the network will see: a 63×63 picture of the rod.

# %%
fig, ax = make_picture(figsize=(2.6, 2.6), alt="The 63 by 63 pixel frame the network "
                       "reads: the pendulum's rod against a white background.")
ax.imshow(pixel_td["pixels"].permute(1, 2, 0))  # matplotlib wants channels last
ax.set_title("pixels (3 × 63 × 63)", fontsize=10)
ax.set_xticks([])
ax.set_yticks([])
fig

# %% [markdown]
# ## `ConvNet` + an MLP head
#
# `ConvNet` stacks convolutions: `num_cells` gives the channels of each layer, with one
# `kernel_sizes` and `strides` entry per layer (or one value for all). Its first layer is
# lazy (it learns the 3 input channels), and it ends by flattening the feature maps into one
# vector per image. An MLP head turns that vector into a torque.

# %%
cnn = ConvNet(num_cells=[16, 32], kernel_sizes=[8, 4], strides=[4, 2])
head = MLP(out_features=1, num_cells=[64])
features = cnn(pixel_td["pixels"])
print("image", tuple(pixel_td["pixels"].shape), "-> ConvNet ->", tuple(features.shape),
      "-> MLP head ->", tuple(head(features).shape))

# %% [markdown]
# Wrapped in an `Actor` that reads `pixels` instead of `observation`, it is a policy like any
# other. A 5-step rollout is enough to see it work. We only collect data here, so we switch
# gradient tracking off with `torch.no_grad()`.

# %%
pixel_actor = Actor(nn.Sequential(cnn, head), in_keys=["pixels"], spec=pixel_env.action_spec)
with torch.no_grad():
    pixel_rollout_td = pixel_env.rollout(5, pixel_actor)
print(f"5 steps hold {pixel_rollout_td.bytes() / 1e6:.2f} MB, almost all of it pixels")
rltutor.show(pixel_rollout_td, module=pixel_actor)

# %% [markdown]
# ## Exercise 1: an actor that reads two keys
#
# Some policies need more than the observation: a *goal-conditioned* policy also reads
# where it should go. Picture a robot arm with two joints. Its `observation` holds 4
# numbers (two angles, two speeds), a `goal` entry holds 2 (where the tip should go), and
# its action is **two torques, each in [-1, 1]**. `ex.arm_batch()` makes a TensorDict of
# such inputs to try your actor on.
#
# Build `arm_actor`: an `Actor` around an `MLP` that reads **both** `observation` and
# `goal`, carries a spec for the arm's action (build one with `torchrl.data.Bounded`),
# writes one torque per joint, and never writes a torque outside [-1, 1], however large its
# inputs. How does one MLP take two tensors? Try it on `arm_td`, or read `MLP.forward`.

# %%
arm_td = ex.arm_batch(5)
rltutor.show(arm_td)

# %%
arm_actor = None  # TODO: a spec for the arm, then Actor(MLP(...), ...)

# %%
ex.check_arm_actor(arm_actor)

# %% [markdown]
# ## Exercise 2: a still picture hides the speed
#
# `pixel_actor` sees one frame. One frame tells where the rod is, but not how fast or which
# way it swings, and the right torque depends on both. The usual fix is to show the network
# the last few frames at once. Build `stacked_env`: a pixel Pendulum like `pixel_env` whose
# `pixels` hold the last **2** frames, stacked along the channel dimension (TorchRL's
# `CatFrames` transform does that: read its docstring for `N` and `dim`), and
# `stacked_actor`: an `Actor` that reads them through a `ConvNet` and an MLP head. How many
# channels does the first convolution read now, and which dimension holds them?

# %%
stacked_env = None  # TODO: TransformedEnv(GymEnv(...), Compose(...))
stacked_actor = None  # TODO: Actor(nn.Sequential(ConvNet(...), MLP(...)), ...)

# %%
ex.check_stacked_actor(stacked_actor, stacked_env)

# %% [markdown]
# ## Recap
#
# - `Actor(module, spec=env.action_spec)` reads `observation` and writes `action` by default;
#   pass `in_keys` to read something else (`["pixels"]`) or several keys, and `safe=True`
#   to clip to the spec.
# - `MLP(out_features, num_cells, activation_class)` is a whole network in one call; without
#   `in_features` its first layer is lazy.
# - Lazy parameters are `UninitializedParameter`s until the first call fixes their shape: run
#   a batch through before counting parameters or building an optimizer.
# - `ConvNet` reads images (channels first) and flattens its features; an MLP head finishes
#   the job. Pixel rollouts cost milliseconds per step and, until you shrink the frames,
#   close to a megabyte each: keep them short. One frame shows a position, not a speed;
#   stacking the last frames (`CatFrames`) shows both.
#
# **Next:** lesson 03 makes the actor *probabilistic*: the network outputs a distribution
# (`loc` and `scale`), and the action is sampled from it.
