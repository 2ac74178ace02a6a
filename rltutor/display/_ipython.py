"""Opt-in IPython integration: TensorDicts, modules and specs render with rltutor.

Nothing is registered at import time; ``install()`` does it and ``uninstall()`` puts back
what was there before.
"""

from __future__ import annotations

import sys
from typing import Any

from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase

from rltutor.display._view import to_html, to_text

__all__ = ["install", "uninstall"]

_installed: dict[tuple[str, type | str], Any] = {}  # (mime, type) -> the formatter it replaced
# TorchRL specs by name: IPython resolves it when a spec is first shown, so registering
# them imports no torchrl
_SPEC_TYPE = "torchrl.data.tensor_specs.TensorSpec"
_TYPES: tuple[type | str, ...] = (TensorDictBase, TensorDictModuleBase, _SPEC_TYPE)


def _html_formatter(obj: Any) -> str:
    return to_html(obj)


def _text_formatter(obj: Any, printer: Any, cycle: bool) -> None:
    printer.text(to_text(obj))


def _shell() -> Any:
    try:
        from IPython import get_ipython  # optional: rltutor works without IPython
    except ImportError:
        return None
    return get_ipython()


def install(text: bool = True, hints: bool = True) -> bool:
    """Render TensorDicts, modules and specs with rltutor in IPython/Jupyter.

    Calling it twice is harmless; ``uninstall()`` restores what was there before.

    Args:
        text: also replace the plain-text repr (terminal IPython, ``print`` of a cell
            result); False leaves it alone and changes only the HTML.
        hints: append a hint under exceptions that classic TorchRL mistakes cause (see
            ``rltutor.diagnostics.install_hints``); False leaves exceptions alone.

    Returns:
        True when installed, False (and nothing done) outside IPython.

    >>> from IPython.core.interactiveshell import InteractiveShell
    >>> InteractiveShell.clear_instance()  # a fresh shell for the example
    >>> install()  # no IPython running: nothing to do
    False
    >>> shell = InteractiveShell.instance()
    >>> install(), install()  # twice is harmless
    (True, True)
    >>> uninstall()
    True
    >>> InteractiveShell.clear_instance()
    """
    shell = _shell()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    mimes = ["text/html", "text/plain"] if text else ["text/html"]
    handlers = {"text/html": _html_formatter, "text/plain": _text_formatter}
    for mime in mimes:
        for cls in _TYPES:
            if (mime, cls) in _installed:
                continue  # already ours: keep the original we saved the first time
            if isinstance(cls, str):
                module, name = cls.rsplit(".", 1)
                previous = formatters[mime].for_type_by_name(module, name, handlers[mime])
            else:
                previous = formatters[mime].for_type(cls, handlers[mime])
            _installed[(mime, cls)] = previous
    if hints:
        # heavy: the diagnostics load torchrl, and `import rltutor.display` stays light
        from rltutor.diagnostics import install_hints

        install_hints(shell)
    return True


def uninstall() -> bool:
    """Undo ``install()``: IPython shows TensorDicts and exceptions as before.

    Returns:
        True when something was restored in a running IPython, False outside IPython.

    >>> from IPython.core.interactiveshell import InteractiveShell
    >>> InteractiveShell.clear_instance()  # a fresh shell for the example
    >>> uninstall()  # no IPython running
    False
    """
    shell = _shell()
    diagnostics = sys.modules.get("rltutor.diagnostics")  # not loaded: no hints to remove
    if shell is None:
        _installed.clear()
        if diagnostics is not None:
            diagnostics.uninstall_hints()
        return False
    formatters = shell.display_formatter.formatters
    for (mime, cls), previous in list(_installed.items()):
        formatter = formatters[mime]
        formatter.pop(cls, None)
        if previous is not None:
            if isinstance(cls, str):
                formatter.for_type_by_name(*cls.rsplit(".", 1), previous)
            else:
                formatter.for_type(cls, previous)
        del _installed[(mime, cls)]
    if diagnostics is not None:
        diagnostics.uninstall_hints(shell)
    return True
