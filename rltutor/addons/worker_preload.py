"""Imported once by the fork server, so that every distributed worker starts warm.

Lesson 08 starts its workers with the "forkserver" start method: each worker is forked
from a helper process instead of starting Python afresh. Whatever that helper has
imported and initialised, every worker inherits for free. ``import torch`` and
``import torchrl`` are the big part, and so is the first environment a process builds
(gymnasium's modules and TorchRL's version-dependent code are loaded then), so this
module builds one Pendulum and one batch of a ``Collector`` and throws them away. The
lesson names it for the workers it starts, and for those only::

    with using_start_method("forkserver", preload=["rltutor.addons.worker_preload"]):
        ...  # build the collector here; the kernel's start method is restored after

Importing it anywhere else costs a fraction of a second and changes nothing.
"""

from __future__ import annotations

from torchrl.collectors import Collector

from rltutor.addons.distributed import make_pendulum, make_pendulum_actor


def _warm_up() -> None:
    collector = Collector(make_pendulum(seed=0), make_pendulum_actor(seed=0),
                          frames_per_batch=10, total_frames=10,
                          auto_register_policy_transforms=True)
    collector.next()
    collector.shutdown()


_warm_up()
