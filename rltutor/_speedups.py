"""One measured fix to a per-call cost in tensordict, applied when rltutor is imported.

Every ``TensorDictModule`` call writes each output through ``TensorDict.from_any``, and for
a plain tensor that function ends in ``importlib.util.find_spec("pandas")`` (tensordict
0.14, ``tensordict/base.py``). With pandas not installed, as with this course's pins, that
lookup searches every folder on ``sys.path`` again on every call: about 42 µs here, a
third of a small module's whole forward (124 µs), and about 11 % of lesson 14's SAC
training. Recording "pandas is absent" in ``sys.modules`` turns the lookup into a
dictionary read; everything else stays as it was, and ``import pandas`` still fails with
``ModuleNotFoundError``.

The one thing this changes: a pandas installed *while* a Python process runs cannot be
imported in that process; restart the kernel after installing it. Nothing happens when
pandas is installed. The README's benchmark section has the numbers and the note for
tensordict's issue tracker.
"""

from __future__ import annotations

import importlib.util
import sys


def skip_pandas_lookup(*, name: str = "pandas") -> bool:
    """Record in ``sys.modules`` that ``name`` is not installed, if it is not.

    Args:
        name: the module tensordict looks for on every call (pandas).

    Returns:
        True when the absence is recorded now or was already; False when the module is
        installed (then nothing changes).

    >>> skip_pandas_lookup(name="rltutor_no_such_module")
    True
    >>> importlib.util.find_spec("rltutor_no_such_module") is None  # a dict read, now
    True
    >>> skip_pandas_lookup(name="json")  # installed: left alone
    False
    """
    if name in sys.modules:
        return sys.modules[name] is None
    if importlib.util.find_spec(name) is not None:
        return False
    sys.modules[name] = None  # what Python's import system reads as "not importable"
    return True
