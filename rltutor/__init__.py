"""rltutor: see how TorchRL builds policies.

Everything public is importable from the top level, but each submodule loads on first
use only, so ``import rltutor`` stays cheap (no matplotlib or ipywidgets until a plot
or a widget is asked for)::

    >>> import rltutor
    >>> rltutor.to_text.__module__  # rltutor.display is imported now, not before
    'rltutor.display._view'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    # display: pretty-printers
    "show": "rltutor.display",
    "to_html": "rltutor.display",
    "to_text": "rltutor.display",
    "diff": "rltutor.display",
    "dataflow": "rltutor.display",
    "install": "rltutor.display",
    "uninstall": "rltutor.display",
    # environments and rollouts
    "make_env": "rltutor.envs",
    "rollout": "rltutor.rollouts",
    # pictures and widgets
    "plot_rollout": "rltutor.plots",
    "plot_learning_curves": "rltutor.plots",
    "animate": "rltutor.frames",
    "explorer": "rltutor.widgets",
    "interact_figure": "rltutor.widgets",
    "plot_buffer": "rltutor.replay",
    "watch_buffer": "rltutor.replay",
    # policy builders
    "make_deterministic_policy": "rltutor.policies",
    "make_actor": "rltutor.policies",
    "make_gaussian_actor": "rltutor.policies",
    "make_categorical_actor": "rltutor.policies",
    "make_qvalue_policy": "rltutor.policies",
    "with_egreedy": "rltutor.policies",
    "with_gaussian_noise": "rltutor.policies",
    "with_ou_noise": "rltutor.policies",
    # diagnostics
    "check_policy": "rltutor.diagnostics",
    "check_loss": "rltutor.diagnostics",
    "check_training": "rltutor.diagnostics",
    "Finding": "rltutor.diagnostics",
    # training (lesson 11 on)
    "evaluate": "rltutor.training",
    "episode_returns": "rltutor.training",
    "held_out": "rltutor.training",
    "BestCheckpoint": "rltutor.training",
    "reward_threshold": "rltutor.training",
    "TrainingMonitor": "rltutor.training",
    "expect_error": "rltutor.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rltutor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

