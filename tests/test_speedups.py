"""rltutor._speedups: tensordict's per-call search for pandas, recorded once as absent."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule

from rltutor._speedups import skip_pandas_lookup


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)  # reads metadata, not sys.modules
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(_installed("pandas"), reason="pandas is installed: nothing is recorded")
def test_import_rltutor_records_pandas_as_absent_and_modules_work_as_before() -> None:
    probe = ("import sys; import rltutor; print(repr(sys.modules.get('pandas', 'missing')))\n"
             "try:\n    import pandas\nexcept ModuleNotFoundError as error:\n"
             "    print(type(error).__name__)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["None", "ModuleNotFoundError"]
    # what tensordict does with a module's output is unchanged
    module = TensorDictModule(torch.nn.Linear(3, 1), in_keys=["x"], out_keys=["y"])
    out = module(TensorDict(x=torch.ones(3)))
    assert torch.equal(out["y"], module.module(torch.ones(3)))
    assert TensorDict.from_any(out["y"]) is out["y"]


def test_an_installed_module_is_left_alone() -> None:
    assert skip_pandas_lookup(name="json") is False
    assert sys.modules["json"].__name__ == "json"


def test_an_absent_module_is_recorded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "rltutor_surely_absent", raising=False)
    assert skip_pandas_lookup(name="rltutor_surely_absent") is True
    assert sys.modules["rltutor_surely_absent"] is None
    assert skip_pandas_lookup(name="rltutor_surely_absent") is True  # kept, not searched
    with pytest.raises(ModuleNotFoundError):
        __import__("rltutor_surely_absent")
