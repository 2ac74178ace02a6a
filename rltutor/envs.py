"""Seeded TorchRL environments for lessons.

>>> env = make_env("CartPole-v1", seed=0)  # doctest: +SKIP
>>> env.rollout(3)                        # doctest: +SKIP
"""

from __future__ import annotations

import numbers
import os
from typing import TYPE_CHECKING, Any

from rltutor.validation import check_device, check_env_name

if TYPE_CHECKING:  # pragma: no cover
    from torchrl.envs import GymEnv

__all__ = ["check_seed", "make_env", "offscreen_rendering"]


def offscreen_rendering() -> None:
    """Let gymnasium's pygame renderer draw to arrays with no display.

    Without a video driver SDL complains on stderr (``XDG_RUNTIME_DIR is invalid``),
    which Jupyter would show under the cell. A driver the user chose is kept.
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an int if it is a whole number >= 0.

    >>> check_seed(3)
    3
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


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

    >>> env = make_env("Pendulum-v1", seed=0)  # doctest: +SKIP
    >>> env.rollout(5)["next", "reward"].shape  # doctest: +SKIP
    torch.Size([5, 1])
    """
    name = check_env_name(name)
    dev = check_device(device)
    seed = check_seed(seed)
    from torchrl.envs import GymEnv

    kwargs = {}
    if render:
        kwargs["render_mode"] = "rgb_array"
        offscreen_rendering()
    env = GymEnv(name, device=dev, **kwargs)
    env.set_seed(seed)
    return env
