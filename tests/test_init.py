"""rltutor/__init__.py: a cheap import that still exposes the whole public API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import rltutor


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_loads_no_heavy_library() -> None:
    loaded = _loaded_after("import rltutor")
    assert not loaded & {"torch", "torchrl", "matplotlib", "ipywidgets", "IPython"}


def test_renderers_load_neither_matplotlib_nor_ipywidgets() -> None:
    loaded = _loaded_after("import rltutor; rltutor.to_text; rltutor.show; rltutor.dataflow")
    assert "tensordict" in loaded
    assert not loaded & {"matplotlib", "ipywidgets"}


@pytest.mark.parametrize("name", rltutor.__all__)
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    value = getattr(rltutor, name)
    assert callable(value)
    assert value.__doc__ and value.__doc__.strip(), f"rltutor.{name} has no docstring"


def test_unknown_name_is_a_clear_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rltutor.nope  # noqa: B018


def test_import_registers_nothing_with_ipython() -> None:
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "fmt = ip.display_formatter.formatters['text/html']\n"
        "before = dict(fmt.type_printers), dict(fmt.deferred_printers)\n"
        "import rltutor; rltutor.show; rltutor.explorer\n"
        "after = dict(fmt.type_printers), dict(fmt.deferred_printers)\n"
        "print(before == after)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("True")


def _type_checking_imports() -> dict[str, str]:
    """name -> module of every import under ``if TYPE_CHECKING:`` in rltutor/__init__.py."""
    tree = ast.parse(Path(rltutor.__file__).read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                found |= {alias.asname or alias.name: stmt.module for alias in stmt.names}
    return found


def test_type_checking_block_names_every_public_name_from_its_module() -> None:
    # IDEs and type checkers read the static block, `rltutor.x` reads _EXPORTS: one list
    static = _type_checking_imports()
    assert static, "rltutor/__init__.py has no `if TYPE_CHECKING:` import block"
    missing = sorted(set(rltutor._EXPORTS) - set(static))
    extra = sorted(set(static) - set(rltutor._EXPORTS))
    moved = sorted(n for n in set(static) & set(rltutor._EXPORTS)
                   if static[n] != rltutor._EXPORTS[n])
    assert not (missing or extra or moved), (
        f"the TYPE_CHECKING block and _EXPORTS disagree: not in the block {missing}, "
        f"only in the block {extra}, from another module {moved}")
