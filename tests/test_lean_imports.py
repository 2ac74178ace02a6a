"""tools/lean_imports.py: pytest processes and the site build import nbformat without
jsonschema's optional IRI grammars, and nbformat still validates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """\
import sys


def test_probe():
    assert "nbformat" in sys.modules  # nbmake's plugin imported it, and jsonschema
    print("rfc3987_syntax:", sys.modules.get("rfc3987_syntax"))
"""


def _pytest_probe(tmp_path: Path, *options: str) -> str:
    (tmp_path / "test_probe.py").write_text(PROBE)
    run = subprocess.run([sys.executable, "-m", "pytest", *options, "-q", "-s",
                          "-p", "no:cacheprovider", str(tmp_path / "test_probe.py")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_plugin_runs_before_nbmake_imports_nbformat(tmp_path: Path) -> None:
    assert "rfc3987_syntax: None" in _pytest_probe(tmp_path, "-p", "tools.lean_imports")
    # without it, nbmake's import of nbformat builds the grammars (what the plugin saves)
    assert "rfc3987_syntax: <module" in _pytest_probe(tmp_path)


def test_nbformat_still_validates_and_the_site_build_skips_them() -> None:
    code = ("import sys, tools.build_site, nbformat\n"
            "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1 + 1')])\n"
            "nbformat.validate(nb)\n"
            "bad = nbformat.v4.new_notebook(); bad.cells.append({'cell_type': 'nope'})\n"
            "try:\n    nbformat.validate(bad)\nexcept nbformat.ValidationError:\n"
            "    print('invalid caught')\n"
            "print(sys.modules['rfc3987_syntax'])\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["invalid", "caught", "None"]
