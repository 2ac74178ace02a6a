"""The explorer's target-return control, for policies that read a return-to-go.

A Decision Transformer acts for a *target return* that the environment holds: TorchRL's
``TargetReturn`` transform writes it at reset and lowers it by every reward. Changing
the target is changing that transform's ``target_return``; the next rollout resets the
environment and starts from the new value. The control appears only where it changes
something: the environment has a ``TargetReturn`` and the policy reads what it writes,
directly or through the environment's later transforms (``CatFrames`` stacking it, for
example).

    >>> target_return_transforms(object(), object())
    []
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import ipywidgets as widgets

from rltutor._keys import as_path, env_keys

__all__ = ["set_target_return", "target_return_slider", "target_return_transforms"]


def _transforms(env: Any) -> list[Any]:
    """The env's transforms in the order they run on a step (innermost env first)."""
    # only a TransformedEnv has transforms; asked by name, a batched env forwards the
    # question to its workers (and recurses without end), so look at the class first.
    # ``transform`` is a property of TransformedEnv's class; ``base_env`` is a submodule
    # (an instance entry), which the class does not show
    if not hasattr(type(env), "transform"):
        return []
    transform = getattr(env, "transform", None)
    if transform is None:
        return []
    inner = _transforms(env.base_env)
    return inner + list(getattr(transform, "transforms", [transform]))


def _keys(transform: Any, name: str) -> list[tuple[str, ...]]:
    try:
        return [as_path(k) for k in getattr(transform, name, None) or ()]
    except (TypeError, ValueError, AttributeError, KeyError):  # keys not set up: no link
        return []


def target_return_transforms(env: Any, policy: Any) -> list[Any]:
    """The ``TargetReturn`` transforms of ``env`` whose target reaches ``policy``'s inputs.

    Args:
        env: a TorchRL environment (a ``TransformedEnv`` when it holds a target).
        policy: the policy the explorer runs.

    Returns:
        The transforms to set (empty: the policy reads no return-to-go, so no control).
    """
    try:
        reads = set(env_keys(policy))
    except Exception:  # a policy rltutor cannot walk reads nothing we can link
        return []
    transforms = _transforms(env)
    found = []
    for i, transform in enumerate(transforms):
        if type(transform).__name__ != "TargetReturn":
            continue
        derived = set(_keys(transform, "out_keys"))
        for later in transforms[i + 1:]:  # follow the target through stacking transforms
            if derived & set(_keys(later, "in_keys")):
                derived |= set(_keys(later, "out_keys"))
        if derived & reads:
            found.append(transform)
    return found


def check_target_return(value: Any) -> float:
    """``value`` as a finite float, or a ValueError saying what is accepted.

    Args:
        value: the target return asked for.

    >>> check_target_return(-100)
    -100.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"target return must be a finite number, got {value!r}")
    return float(value)


def target_return_slider(transforms: list[Any]) -> widgets.FloatSlider:
    """A slider around the first transform's target: 10 steps either side.

    The step is half the target's size rounded to a power of ten (a target of -100 gives
    steps of 50, from -600 to 400), so both much lower and higher targets can be tried.

    Args:
        transforms: the ``TargetReturn`` transforms the control sets (not empty).
    """
    start = check_target_return(transforms[0].target_return)
    step = 10.0 ** math.floor(math.log10(abs(start))) / 2 if start else 1.0
    return widgets.FloatSlider(value=start, min=start - 10 * step, max=start + 10 * step,
                               step=step, description="target return",
                               continuous_update=False, readout_format=".0f",
                               style={"description_width": "initial"})


def set_target_return(transforms: list[Any], value: Any) -> None:
    """Ask for ``value``: the next reset of the environment starts from it.

    Args:
        transforms: the ``TargetReturn`` transforms to set.
        value: the target return (a finite number).
    """
    target = check_target_return(value)
    for transform in transforms:
        transform.target_return = target
