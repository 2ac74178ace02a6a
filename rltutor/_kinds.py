"""Which TorchRL object is this? Answered by class name, without importing TorchRL.

``rltutor.display`` must stay cheap to import (no ``torchrl``), yet its handlers ask of
every object they are shown whether it is a loss module or a replay buffer. Looking for
the TorchRL base class by name along the object's MRO answers without an import.

    >>> is_loss_module(3), is_replay_buffer([])
    (False, False)
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_loss_module", "is_replay_buffer"]


def _has_base(obj: Any, name: str, package: str) -> bool:
    return any(c.__name__ == name and c.__module__.startswith(package)
               for c in type(obj).__mro__)


def is_loss_module(obj: Any) -> bool:
    """True for a TorchRL loss (any subclass of ``torchrl.objectives.LossModule``).

    Args:
        obj: anything.

    >>> from torchrl.objectives import DQNLoss
    >>> is_loss_module(DQNLoss), is_loss_module(object())
    (False, False)
    """
    return _has_base(obj, "LossModule", "torchrl.objectives")


def is_replay_buffer(obj: Any) -> bool:
    """True for a TorchRL replay buffer (``ReplayBuffer`` and its subclasses).

    Args:
        obj: anything.

    >>> from torchrl.data import LazyTensorStorage, ReplayBuffer
    >>> is_replay_buffer(ReplayBuffer(storage=LazyTensorStorage(2)))
    True
    """
    return _has_base(obj, "ReplayBuffer", "torchrl.data")
