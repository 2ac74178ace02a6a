"""Which torch devices this machine has: what lesson 08's device menu and the explorer offer.

Only torch is imported (no torchrl, matplotlib or ipywidgets), so listing devices is cheap.
Checking a device a learner typed is an argument check: ``rltutor.validation.check_device``.
"""

from __future__ import annotations

import torch

__all__ = ["available_devices"]


def available_devices() -> list[str]:
    """The torch devices that exist on this machine: ``cpu``, ``cuda:N`` per GPU, ``mps``.

    The CPU comes first, so it is the default of any menu built from this list.

    >>> available_devices()[0]
    'cpu'
    """
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices
