"""Hints under exceptions: the fix for an error a classic TorchRL mistake raises.

:func:`hint_for` is the pure function (exception in, :class:`Finding` or None out);
:func:`install_hints` shows its answer under a notebook cell's traceback.

    >>> hint_for(KeyError('key "sample_log_prob" not found')).what
    "a key named 'sample_log_prob'"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rltutor.diagnostics._finding import Finding

__all__ = ["hint_for", "install_hints", "uninstall_hints"]

# (exception types, pattern in str(exception), finding) in order; first match wins
_HINTS: list[tuple[tuple[type[BaseException], ...], str, Finding]] = [
    ((TypeError,), r"Using specs in action_space",
     Finding("a spec passed positionally to QValueModule",
             "QValueModule's first argument is action_space (a string such as 'one_hot'); "
             "a spec given there is refused",
             "QValueModule(spec=env.action_spec)", "qvalue-positional-spec")),
    ((KeyError,), r"sample_log_prob",
     Finding("a key named 'sample_log_prob'",
             "TorchRL renamed it: probabilistic actors write 'action_log_prob' now",
             "read td['action_log_prob'] instead", "sample-log-prob")),
    ((KeyError,), r"is_init",
     Finding("the policy reads 'is_init' but the environment does not write it",
             "recurrent modules (and OU noise) reset their state where is_init is True",
             "env.append_transform(InitTracker())", "recurrent-no-init-tracker")),
    ((KeyError,), r"recurrent_state",
     Finding("a recurrent state key is missing from the TensorDict",
             "the environment must carry the LSTM/GRU state from step to step",
             "env.append_transform(lstm.make_tensordict_primer())", "recurrent-no-primer")),
    ((ValueError,), r"recurrent_mode=True\) requires",
     Finding("recurrent mode on a single step",
             "with set_recurrent_mode(True) the module reads a whole sequence: the last "
             "batch dimension is time",
             "call it on a rollout (shape [T] or [B, T]); step by step, leave recurrent "
             "mode off", "recurrent-mode-no-time")),
    ((RuntimeError,), r"e-greedy module to be on the same device",
     Finding("EGreedyModule's spec is on another device than the action",
             "EGreedyModule draws its random actions from its spec, on the spec's device",
             "EGreedyModule(spec=env.action_spec, ...) built after env.to(device); "
             "rltutor.check_policy(policy, env) names the module", "exploration-spec-device")),
    ((NotImplementedError,), r"Cannot copy out of meta tensor",
     Finding("a tensor on the 'meta' device (no data) was used",
             "usually a spec or module moved to 'meta'; an exploration module draws its "
             "random actions from its spec",
             "build the module from the running env's spec: spec=env.action_spec; "
             "rltutor.check_policy(policy, env) names the module", "exploration-spec-device")),
    ((RuntimeError,), r"Expected all tensors to be on the same device",
     Finding("tensors on two devices",
             "the environment's outputs, the policy's parameters and the specs exploration "
             "modules keep must share one device; one of them was left behind",
             "build everything from one device: env = ...(device=device), the policy from "
             "that env, exploration modules with spec=env.action_spec; give a Collector "
             "device=device. rltutor.check_policy(policy, env) names the culprit",
             "two-devices")),
    ((RuntimeError,), r"mat1 and mat2 shapes cannot be multiplied",
     Finding("a layer got inputs of another size than it was built for",
             "a Linear layer's in_features is fixed when it is built: a policy made for one "
             "environment (or observation key) does not fit another's observation size",
             "build the policy from this env's specs, e.g. rltutor.make_actor(env), or let a "
             "lazy layer (LazyLinear, MLP without in_features) take its size on first call",
             "input-size")),
    ((RuntimeError,), r"has not analytical mode",
     Finding("ExplorationType.MODE on a distribution without a closed-form mode",
             "TanhNormal (and other transformed distributions) cannot compute their mode",
             "set_exploration_type(ExplorationType.DETERMINISTIC)", "exploration-mode")),
    ((RuntimeError,), r"mean\(\): could not infer output dtype",
     Finding("ExplorationType.MEAN on a distribution with integer samples",
             "with no closed-form mean TorchRL averages samples, and discrete samples "
             "(a Categorical part, for instance) cannot be averaged",
             "set_exploration_type(ExplorationType.DETERMINISTIC)", "exploration-mean")),
    ((NotImplementedError,), r"median is not implemented",
     Finding("ExplorationType.MEDIAN on a distribution without a median",
             "this distribution does not implement .median",
             "set_exploration_type(ExplorationType.DETERMINISTIC)", "exploration-median")),
]


def hint_for(error: BaseException) -> Finding | None:
    """The hint for an exception one of the classic mistakes causes, else ``None``.

    Looks at the exception and the ones it was raised from (``__cause__``/``__context__``).

    Args:
        error: the exception raised.

    >>> hint_for(TypeError("Using specs in action_space is deprecated")).fix
    'QValueModule(spec=env.action_spec)'
    >>> hint_for(ValueError("something else")) is None
    True
    """
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        text = str(current)
        for types, pattern, finding in _HINTS:
            if isinstance(current, types) and re.search(pattern, text):
                return finding
        current = current.__cause__ or current.__context__
        seen += 1
    return None


_installed_on: Any = None


def _handler(shell: Any, etype: type, value: BaseException, tb: Any,
             tb_offset: int | None = None) -> list[str]:
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    finding = hint_for(value)
    if finding is not None:
        from IPython.display import display

        display(finding)
    return []


def install_hints(shell: Any = None) -> bool:
    """Append a hint box under exceptions caused by the classic mistakes (IPython only).

    Uses ``shell.set_custom_exc``; the normal traceback is still shown first. Returns
    ``False`` (and does nothing) outside IPython. ``rltutor.install()`` calls this.

    Args:
        shell: the IPython shell; None: the running one.

    >>> from IPython.core.interactiveshell import InteractiveShell
    >>> InteractiveShell.clear_instance()  # a fresh shell for the example
    >>> install_hints()  # no IPython running: nothing to do
    False
    >>> shell = InteractiveShell.instance()
    >>> install_hints(shell), uninstall_hints(shell)
    (True, True)
    >>> InteractiveShell.clear_instance()
    """
    global _installed_on
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((Exception,), _handler)
    _installed_on = shell
    return True


def uninstall_hints(shell: Any = None) -> bool:
    """Undo :func:`install_hints`; returns whether rltutor's handler was removed.

    Args:
        shell: the IPython shell; None: the one hints were installed on.

    >>> from IPython.core.interactiveshell import InteractiveShell
    >>> InteractiveShell.clear_instance()  # a fresh shell for the example
    >>> uninstall_hints(InteractiveShell.instance())  # nothing of rltutor's installed
    False
    >>> InteractiveShell.clear_instance()
    """
    global _installed_on
    shell = shell or _installed_on
    _installed_on = None
    if shell is None or _handler not in _registered_handlers(shell):
        return False
    shell.set_custom_exc((), None)  # no exception type matches: IPython's default again
    return True


def _registered_handlers(shell: Any) -> list[Callable]:
    # IPython wraps the handler in a closure; find ours among its cells
    custom = getattr(shell, "CustomTB", None)
    func = getattr(custom, "__func__", None)
    cells = getattr(func, "__closure__", None) or ()
    return [c.cell_contents for c in cells if callable(c.cell_contents)]
