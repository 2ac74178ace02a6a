"""Every public function says what its arguments are (an Args section) and shows itself
in a running example (collected as a doctest by ``make unit``)."""

from __future__ import annotations

import importlib
import inspect

import pytest

# the modules whose __all__ is public; lesson exercise modules document their checks
PUBLIC_MODULES = [
    "rltutor._keys", "rltutor.display", "rltutor.diagnostics", "rltutor.envs",
    "rltutor.frames", "rltutor.plots", "rltutor.policies", "rltutor.rollouts",
    "rltutor.addons.toy_envs", "rltutor.validation", "rltutor.widgets", "rltutor.exercises",
    "rltutor.devices", "rltutor.replay",
]


def public_callables() -> list[tuple[str, object]]:
    found = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                found.append((f"{name}.{attr}", obj))
    return found


def parameters(obj: object) -> list[str]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return []
    return [p for p in params if p not in ("self", "args", "kwargs")]


@pytest.mark.parametrize("name, obj", public_callables(), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_documented_with_args_and_an_example(name: str, obj: object) -> None:
    doc = inspect.getdoc(obj) or ""
    if parameters(obj) and not (inspect.isclass(obj) and not _own_init(obj)):
        assert "Args:" in doc, f"{name}: no Args section"
    if inspect.isfunction(obj):
        assert ">>>" in doc, f"{name}: no example"
        assert "+SKIP" not in doc, f"{name}: its example is skipped"


def _own_init(cls: type) -> bool:
    """A class whose constructor is its own (not a dataclass or a base's)."""
    return "__init__" in vars(cls) and not hasattr(cls, "__dataclass_fields__")
