"""rltutor: see how TorchRL builds policies.

Everything public is importable from the top level, but each submodule loads on first
use only, so ``import rltutor`` stays cheap (no matplotlib or ipywidgets until a plot
or a widget is asked for)::

    >>> import rltutor
    >>> rltutor.to_text.__module__  # rltutor.display is imported now, not before
    'rltutor.display._view'

What is public: the names below (``rltutor.__all__``); the packages and modules that
hold them, each with its own ``__all__`` (``display``, ``diagnostics``, ``plots``,
``widgets``, ``training``, ``replay``, ``envs``, ``policies``, ``rollouts``, ``frames``,
``errors``, ``devices``, ``validation``); ``exercises``, the checkers the lessons call;
and ``addons``, each add-on public for the lesson that uses it. A module whose name
starts with ``_`` is internal and may change without notice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    # is this machine ready for the course? (also `rltutor doctor` in a shell)
    "doctor": "rltutor.doctor",
}

__all__ = sorted(_EXPORTS)

# tensordict looks for pandas on every TensorDictModule call; see rltutor/_speedups.py
importlib.import_module("rltutor._speedups").skip_pandas_lookup()


if TYPE_CHECKING:  # the same names for IDEs and type checkers (`x as x`: re-exported);
    # tests/test_init.py checks that this block and _EXPORTS agree
    from rltutor.diagnostics import (
        Finding as Finding,
    )
    from rltutor.diagnostics import (
        check_loss as check_loss,
    )
    from rltutor.diagnostics import (
        check_policy as check_policy,
    )
    from rltutor.diagnostics import (
        check_training as check_training,
    )
    from rltutor.display import (
        dataflow as dataflow,
    )
    from rltutor.display import (
        diff as diff,
    )
    from rltutor.display import (
        install as install,
    )
    from rltutor.display import (
        show as show,
    )
    from rltutor.display import (
        to_html as to_html,
    )
    from rltutor.display import (
        to_text as to_text,
    )
    from rltutor.display import (
        uninstall as uninstall,
    )
    from rltutor.doctor import doctor as doctor
    from rltutor.envs import make_env as make_env
    from rltutor.errors import expect_error as expect_error
    from rltutor.frames import animate as animate
    from rltutor.plots import (
        plot_learning_curves as plot_learning_curves,
    )
    from rltutor.plots import (
        plot_rollout as plot_rollout,
    )
    from rltutor.policies import (
        make_actor as make_actor,
    )
    from rltutor.policies import (
        make_categorical_actor as make_categorical_actor,
    )
    from rltutor.policies import (
        make_deterministic_policy as make_deterministic_policy,
    )
    from rltutor.policies import (
        make_gaussian_actor as make_gaussian_actor,
    )
    from rltutor.policies import (
        make_qvalue_policy as make_qvalue_policy,
    )
    from rltutor.policies import (
        with_egreedy as with_egreedy,
    )
    from rltutor.policies import (
        with_gaussian_noise as with_gaussian_noise,
    )
    from rltutor.policies import (
        with_ou_noise as with_ou_noise,
    )
    from rltutor.replay import plot_buffer as plot_buffer
    from rltutor.replay import watch_buffer as watch_buffer
    from rltutor.rollouts import rollout as rollout
    from rltutor.training import (
        BestCheckpoint as BestCheckpoint,
    )
    from rltutor.training import (
        TrainingMonitor as TrainingMonitor,
    )
    from rltutor.training import (
        episode_returns as episode_returns,
    )
    from rltutor.training import (
        evaluate as evaluate,
    )
    from rltutor.training import (
        held_out as held_out,
    )
    from rltutor.training import (
        reward_threshold as reward_threshold,
    )
    from rltutor.widgets import explorer as explorer
    from rltutor.widgets import interact_figure as interact_figure


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rltutor' has no attribute {name!r}")
    value = importlib.import_module(module)
    if module.rpartition(".")[2] != name:  # a name in a module, not the (callable) module itself
        value = getattr(value, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

