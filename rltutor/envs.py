"""Seeded TorchRL environments for lessons.

>>> env = make_env("CartPole-v1", seed=0)
>>> env.rollout(3).batch_size
torch.Size([3])
"""

from __future__ import annotations

import os
import re
from typing import Any

from torchrl.envs import GymEnv
from torchrl.envs.batched_envs import BatchedEnvBase

from rltutor.validation import check_device, check_env_name, check_seed

__all__ = ["OBSERVATION_NAMES", "env_id", "make_env", "observation_names",
           "offscreen_rendering"]

# What each observation entry means, for the environments the lessons use (gymnasium's
# docs for these envs list the same order; ω is an angular velocity, dθ/dt). Plots use
# these names in their legends.
OBSERVATION_NAMES: dict[str, tuple[str, ...]] = {
    "Pendulum-v1": ("cos θ", "sin θ", "ω (angular velocity)"),
    "CartPole-v1": ("cart position", "cart velocity", "pole angle", "pole angular velocity"),
    "MountainCar-v0": ("car position", "car velocity"),
    "MountainCarContinuous-v0": ("car position", "car velocity"),
    "Acrobot-v1": ("cos θ₁", "sin θ₁", "cos θ₂", "sin θ₂", "ω₁", "ω₂"),
    "PuckEnv": ("position", "velocity", "target"),  # rltutor.addons.toy_envs (lesson 07)
}


def offscreen_rendering() -> None:
    """Let gymnasium's pygame renderer draw to arrays with no display.

    Without a video driver SDL complains on stderr (``XDG_RUNTIME_DIR is invalid``),
    which Jupyter would show under the cell. A driver the user chose is kept.

    >>> offscreen_rendering()
    >>> "SDL_VIDEODRIVER" in os.environ
    True
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def make_env(
    name: str = "Pendulum-v1",
    *,
    device: Any = "cpu",
    seed: int = 0,
    render: bool = False,
) -> GymEnv:
    """A TorchRL ``GymEnv`` for gymnasium's ``name``, seeded with ``seed``.

    ``render=True`` asks gymnasium for ``render_mode="rgb_array"`` so that
    :func:`rltutor.animate` can draw frames; observations stay plain vectors.

    Args:
        name: a gymnasium id, e.g. ``"Pendulum-v1"`` (close matches are suggested).
        device: where the environment's tensors live (a device of this machine).
        seed: the environment's seed (a whole number >= 0).
        render: ask gymnasium for RGB frames (``render_mode="rgb_array"``).

    >>> env = make_env("Pendulum-v1", seed=0)
    >>> env.rollout(5)["next", "reward"].shape
    torch.Size([5, 1])
    """
    name = check_env_name(name)
    dev = check_device(device)
    seed = check_seed(seed)
    kwargs = {}
    if render:
        kwargs["render_mode"] = "rgb_array"
        offscreen_rendering()
    env = GymEnv(name, device=dev, **kwargs)
    env.set_seed(seed)
    return env


def env_id(env: Any) -> str:
    """gymnasium's id of the environment inside ``env`` (or its class name).

    Batched envs (``SerialEnv``/``ParallelEnv``) give the id of the envs they run.

    Args:
        env: a TorchRL environment (plain, transformed or batched).

    >>> env_id(make_env("CartPole-v1"))
    'CartPole-v1'
    """
    base = env.base_env if hasattr(type(env), "base_env") else env
    if isinstance(base, BatchedEnvBase):
        # It describes one of its workers, e.g. "GymEnv(env=Pendulum-v1, ...)". (No getattr
        # on other names: a batched env forwards them to its workers, starting them.)
        text = str(vars(base).get("_dummy_env_str", ""))
        described = re.search(r"\benv=([^,()\s]+)", text) or re.match(r"(\w+)\(", text)
        return described.group(1) if described else type(base).__name__
    spec = getattr(getattr(base, "_env", None), "spec", None)
    return getattr(spec, "id", None) or type(base).__name__


def observation_names(env: Any, size: int | None = None) -> list[str]:
    """A readable name per observation entry: known ones for the lessons' envs, else ``obs[i]``.

    Args:
        env: an environment or a gymnasium id.
        size: how many names to return; None: the observation spec's size when ``env``
            is an environment, else as many as are known.

    >>> observation_names("Pendulum-v1")
    ['cos θ', 'sin θ', 'ω (angular velocity)']
    >>> observation_names("Unknown-v0", 2)
    ['obs[0]', 'obs[1]']
    """
    name = env if isinstance(env, str) else env_id(env)
    known = OBSERVATION_NAMES.get(name, ())
    if size is None and not isinstance(env, str):
        spec = env.observation_spec.get("observation", None)
        shape = getattr(spec, "shape", ())
        size = int(shape[-1]) if len(shape) else len(known)
    size = len(known) if size is None else size
    if len(known) != size:  # a wrapper changed the observation: names would mislead
        known = ()
    return [known[i] if i < len(known) else f"obs[{i}]" for i in range(size)]
