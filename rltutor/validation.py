"""Argument checks shared by rltutor's functions and widgets.

Each ``check_*`` takes what a learner typed and either returns it in canonical form or
raises a ``ValueError`` whose message says what was wrong and what is accepted::

    >>> check_epsilon(0.25)
    0.25
    >>> check_steps(0)
    Traceback (most recent call last):
    ...
    ValueError: steps must be a positive integer, got 0

This module imports torch (needed for devices) but not torchrl, gymnasium, matplotlib
or ipywidgets at import time, so policies and lessons can use it cheaply.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from tensordict import unravel_key
from tensordict.nn import InteractionType

from rltutor._keys import key_str
from rltutor.devices import available_devices

__all__ = [
    "EXPLORATION_NAMES",
    "check_device",
    "check_env_name",
    "check_epsilon",
    "check_exploration",
    "check_in_keys",
    "check_seed",
    "check_steps",
]

# The names learners may type for an exploration type, in the order menus show them.
EXPLORATION_NAMES: tuple[str, ...] = ("deterministic", "random", "mode", "mean", "median")

# Examples named in the unknown-environment message: the ones lessons use.
_CLASSIC = ("Pendulum-v1", "CartPole-v1", "MountainCar-v0", "Acrobot-v1")


def check_epsilon(eps: Any) -> float:
    """Return ``eps`` as a float if it is a number in [0, 1].

    Args:
        eps: what the learner passed as epsilon.

    >>> check_epsilon(1)
    1.0
    """
    if isinstance(eps, torch.Tensor) and eps.numel() == 1:
        eps = eps.item()
    if (
        isinstance(eps, bool)
        or not isinstance(eps, numbers.Real)
        or not 0.0 <= float(eps) <= 1.0  # also rejects NaN
    ):
        raise ValueError(f"epsilon must be a number in [0, 1], got {eps!r}")
    return float(eps)


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an int if it is a whole number >= 0.

    Args:
        seed: what the learner passed as a seed.

    >>> check_seed(3)
    3
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def check_device(device: Any) -> torch.device:
    """Return ``device`` as a ``torch.device`` if it exists on this machine.

    ``"cuda"`` alone means the current GPU (``cuda:0`` usually).

    Args:
        device: a device name or ``torch.device``.

    >>> check_device("cpu")
    device(type='cpu')
    """
    available = available_devices()
    hint = f"available: {', '.join(available)}"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{device!r} is not a device name; {hint}") from None
    if dev.type == "cuda" and dev.index is None and torch.cuda.is_available():
        dev = torch.device("cuda", torch.cuda.current_device())
    name = dev.type if dev.index is None or dev.type in ("cpu", "mps") else str(dev)
    if dev.type == "cpu":
        return torch.device("cpu")
    if name not in available:
        raise ValueError(f"device {str(device)!r} is not available on this machine; {hint}")
    return dev


def check_exploration(mode: Any) -> InteractionType:
    """Return the TorchRL ``ExplorationType`` named by ``mode``.

    Accepts an ``ExplorationType``/``InteractionType`` member or its name in any case.

    Args:
        mode: an exploration type or its name.

    >>> check_exploration("Random")
    <InteractionType.RANDOM: 'random'>
    """
    # torchrl's ExplorationType is tensordict's InteractionType
    if isinstance(mode, InteractionType):
        return mode
    if isinstance(mode, str):
        key = mode.strip().lower()
        for member in InteractionType:
            if key in (member.value.lower(), member.name.lower()):
                return member
    accepted = ", ".join(repr(m.value) for m in InteractionType)
    raise ValueError(
        f"exploration must be one of TorchRL's exploration types ({accepted}), got {mode!r}"
    )


def check_steps(steps: Any) -> int:
    """Return ``steps`` as an int if it is a positive whole number.

    Args:
        steps: what the learner passed as a number of steps.

    >>> check_steps(200)
    200
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    return int(steps)


def check_env_name(name: Any) -> str:
    """Return ``name`` if it is a registered gymnasium environment id.

    Unknown names get close matches suggested.

    Args:
        name: what the learner passed as an environment id.

    >>> check_env_name("CartPole-v1")
    'CartPole-v1'
    """
    import gymnasium  # heavy, and only needed for a name: loaded when one is checked

    known = sorted(gymnasium.registry)
    if isinstance(name, str) and name in gymnasium.registry:
        return name
    if not isinstance(name, str):
        raise ValueError(f"environment name must be a string such as 'Pendulum-v1', got {name!r}")
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not close:  # case slips like 'pendulum-v1'
        lowered = {k.lower(): k for k in known}
        close = [lowered[k] for k in difflib.get_close_matches(name.lower(), lowered, n=3)]
    message = f"unknown environment {name!r}."
    if close:
        message += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    raise ValueError(
        f"{message} Accepted: a gymnasium id such as {', '.join(map(repr, _CLASSIC))}; "
        f"all {len(known)} ids are listed by sorted(gymnasium.registry)."
    )


def check_in_keys(module: Any, td: Any) -> None:
    """Raise ``ValueError`` if ``td`` lacks any of ``module.in_keys``.

    The message names the missing keys and the keys the TensorDict has.

    Args:
        module: anything with ``in_keys`` (a TensorDict module).
        td: a TensorDict (nested keys count) or a plain mapping.

    >>> from tensordict import TensorDict
    >>> from tensordict.nn import TensorDictModule
    >>> m = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["observation"], out_keys=["action"])
    >>> check_in_keys(m, TensorDict({"observation": torch.zeros(3)}))
    """
    in_keys: Iterable[Any] = getattr(module, "in_keys", None) or ()
    try:  # a TensorDict: nested keys count
        keys = td.keys(include_nested=True, leaves_only=True)
        has = lambda k: k in td.keys(include_nested=True)  # noqa: E731
    except TypeError:  # a plain mapping
        keys = td.keys() if isinstance(td, Mapping) else ()
        has = lambda k: k in keys  # noqa: E731
    listed = [key_str(k) for k in keys]
    missing = [key_str(k) for k in in_keys if not has(unravel_key(k))]
    if missing:
        name = type(module).__name__
        raise ValueError(
            f"{name} reads {', '.join(repr(k) for k in missing)} but the TensorDict has "
            f"no such key; it has: {', '.join(repr(k) for k in sorted(listed)) or 'nothing'}"
        )
