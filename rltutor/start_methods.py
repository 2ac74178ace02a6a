"""A multiprocessing start method for one block of code, and the previous one back after.

``multiprocessing.set_start_method(..., force=True)`` changes the whole kernel: every
``ParallelEnv`` or multi-process collector made later starts its workers that way too.
TorchRL's ``ParallelEnv`` takes ``mp_start_method=`` for itself, but its multi-process
collectors and ``DistributedCollector`` read the global setting when they start their
workers (in their constructor). :func:`using_start_method` sets it for the constructor
only and restores what was there before, "not set" included.

    >>> import multiprocessing
    >>> before = multiprocessing.get_start_method(allow_none=True)
    >>> with using_start_method("spawn"):
    ...     multiprocessing.get_start_method()
    'spawn'
    >>> multiprocessing.get_start_method(allow_none=True) == before
    True
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import forkserver

__all__ = ["using_start_method"]


def _forkserver_preload() -> list[str] | None:
    # multiprocessing has a setter for the preload list, no getter
    return list(getattr(forkserver._forkserver, "_preload_modules", []) or [])


@contextmanager
def using_start_method(method: str, *, preload: Sequence[str] | None = None) -> Iterator[None]:
    """Use ``method`` to start processes inside the block; restore the previous one after.

    Args:
        method: "fork", "spawn" or "forkserver" (what this platform offers).
        preload: for "forkserver" only: modules the fork server imports once, so that every
            worker forked from it has them already (``set_forkserver_preload``).

    >>> with using_start_method("fork"):
    ...     pass
    >>> with using_start_method("thread"):
    ...     pass
    Traceback (most recent call last):
    ValueError: unknown start method 'thread'; this platform offers fork, spawn, forkserver
    """
    offered = multiprocessing.get_all_start_methods()
    if method not in offered:
        raise ValueError(f"unknown start method {method!r}; this platform offers "
                         f"{', '.join(offered)}")
    if preload is not None and method != "forkserver":
        raise ValueError(f"preload= is for 'forkserver' only, not {method!r}")
    previous = multiprocessing.get_start_method(allow_none=True)
    previous_preload = _forkserver_preload()
    multiprocessing.set_start_method(method, force=True)
    if preload is not None:
        multiprocessing.set_forkserver_preload(list(preload))
    try:
        yield
    finally:
        multiprocessing.set_start_method(previous, force=True)
        if preload is not None:
            multiprocessing.set_forkserver_preload(previous_preload)
