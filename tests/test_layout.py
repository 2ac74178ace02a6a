"""The package layout keeps its promises: no import cycle, small modules, imports at the
top (lazy only where a heavy optional import must stay lazy), and every import that the
README and the lessons use still works."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rltutor"
MAX_LINES = 400
# rltutor modules imported inside a function, and why they must stay lazy there
LAZY_RLTUTOR_IMPORTS = {
    ("rltutor.display._ipython", "rltutor.diagnostics"):
        "the diagnostics load torchrl; `import rltutor.display` stays light until install()",
    ("rltutor.addons.distributed", "rltutor.plots"):
        "the fork server imports it (worker_preload) for workers that never draw: no matplotlib",
    ("rltutor.training.monitor", "rltutor.plots"):
        "`import rltutor.training` (evaluate, selection) must not load matplotlib",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (never run, so never a real edge)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return skipped


def _resolve(module: str, imported: str, names: list[str]) -> set[str]:
    """The rltutor modules an import statement in ``module`` loads."""
    found = set()
    for name in names:
        if f"{imported}.{name}" in MODULES:
            found.add(f"{imported}.{name}")
        elif imported in MODULES:
            found.add(imported)
    if not names and imported in MODULES:
        found.add(imported)
    return found


def imports_of(name: str) -> list[tuple[str, bool]]:
    """(imported rltutor module, inside a function?) for every import ``name`` runs."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    in_function = {id(n) for f in ast.walk(tree)
                   if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for n in ast.walk(f)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = set()
            for alias in node.names:
                parts = alias.name.split(".")
                for i in range(len(parts), 0, -1):  # the deepest rltutor module named
                    if ".".join(parts[:i]) in MODULES:
                        targets.add(".".join(parts[:i]))
                        break
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = _resolve(name, base, [a.name for a in node.names])
        else:
            continue
        edges += [(t, id(node) in in_function) for t in targets if t != name]
    return edges


def test_every_module_is_found():
    assert {"rltutor", "rltutor.display", "rltutor.display._build", "rltutor._keys",
            "rltutor.diagnostics", "rltutor.plots", "rltutor.widgets"} <= set(MODULES)


def test_no_import_cycle():
    graph = {name: sorted({t for t, _ in imports_of(name)}) for name in MODULES}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name)


def test_the_graph_sees_a_cycle_when_there_is_one(tmp_path, monkeypatch):
    # the walker itself: function-local and relative imports count as edges
    pkg = tmp_path / "rltutor"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from rltutor import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    modules = {module_name(p): p for p in pkg.rglob("*.py")}
    monkeypatch.setattr(__import__(__name__), "MODULES", modules)
    assert imports_of("rltutor.a") == [("rltutor.b", False)]
    assert imports_of("rltutor.b") == [("rltutor.a", True)]


def test_rltutor_modules_are_imported_at_the_top():
    lazy = {(name, target) for name in MODULES for target, local in imports_of(name) if local}
    unexplained = lazy - set(LAZY_RLTUTOR_IMPORTS)
    assert not unexplained, (
        "rltutor modules imported inside functions (move them to the top; a cycle means the "
        f"layout needs a lower module): {sorted(unexplained)}"
    )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_small(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it (limit {MAX_LINES})"


# ---------------------------------------------------------------- the public imports

_FROM = re.compile(r"^\s*from (rltutor[\w.]*) import \(?([\w, \n]+?)\)?$", re.M)
_DOTTED = re.compile(r"\brltutor(?:\.[A-Za-z_]\w*)+")


def public_references() -> set[str]:
    """Every ``rltutor.x.y`` and ``from rltutor.x import y`` in the README and lessons."""
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "lessons").rglob("*.py"))]
    found: set[str] = set()
    for text in texts:
        for module, names in _FROM.findall(text):
            found |= {f"{module}.{n.split(' as ')[0].strip()}" for n in names.split(",")
                      if n.strip()}
        found |= set(_DOTTED.findall(text))
    return found


def resolve(dotted: str) -> object:
    parts = dotted.split(".")
    obj: object = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        if hasattr(obj, part):
            obj = getattr(obj, part)
        else:  # a submodule not imported yet
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def test_readme_and_lessons_name_rltutor_things():
    refs = public_references()
    assert {"rltutor.show", "rltutor.dataflow", "rltutor.check_policy",
            "rltutor.devices.available_devices"} <= refs


@pytest.mark.parametrize("dotted", sorted(public_references()))
def test_public_import_still_works(dotted):
    if dotted.rpartition(".")[2] in {"py", "ipynb", "css"}:  # a file name in prose
        pytest.skip("a file name, not an import")
    assert resolve(dotted) is not None


# What a lesson may import (README, "What is public"): the top level, the exercises, the
# add-ons, and these modules. Never a private module, never rltutor.validation.
LESSON_IMPORTS = {"rltutor", "rltutor.plots", "rltutor.devices", "rltutor.contract",
                  "rltutor.start_methods"}
LESSON_PACKAGES = ("rltutor.exercises", "rltutor.addons")


def lesson_imports() -> set[tuple[str, str]]:
    """(lesson file, rltutor module) for every import in the lessons and their solutions."""
    found = set()
    for path in sorted((ROOT / "lessons").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rltutor"):
                found |= {(path.name, node.module)} if node.module not in LESSON_PACKAGES else {
                    (path.name, f"{node.module}.{a.name}") for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {(path.name, a.name) for a in node.names if a.name.startswith("rltutor")}
    return found


def test_lessons_import_only_public_modules():
    found = lesson_imports()
    assert ("08_batched_envs_and_devices.py", "rltutor.devices") in found  # the walker works
    wrong = sorted((lesson, module) for lesson, module in found
                   if module not in LESSON_IMPORTS
                   and not module.startswith(tuple(f"{p}." for p in LESSON_PACKAGES)))
    assert not wrong, ("lessons import modules that are not public for them (README, 'What "
                       f"is public'; a single lesson's helper goes in rltutor/addons/): {wrong}")


def test_root_holds_the_core_and_its_private_helpers():
    # a public root module is a part of the core that more than one lesson or rltutor's
    # own API uses; one lesson's helper belongs in addons/ (README, 'How the code is laid out')
    core = {"__init__", "envs", "policies", "rollouts", "validation", "devices", "frames",
            "errors", "contract", "start_methods", "cli", "course"}
    public_root = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    assert public_root - {"__init__"} <= core, (
        f"new public module(s) at the root: {sorted(public_root - core)}; add them to the core "
        "here and to the README map, or move a single lesson's helper into rltutor/addons/")


def test_css_lives_in_static_only():
    # inline style attributes or <style> blocks written in Python; CSS goes in static/
    inline = re.compile(r"""style=["']|["']<style>""")
    found = [f"{name}:{i}" for name, path in MODULES.items() if name != "rltutor._static"
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if inline.search(line) and "style_tag" not in line]
    assert not found, f"inline CSS (move it to rltutor/static/*.css): {found}"


def test_one_png_encoder():
    # every PNG rltutor makes goes through rltutor._png.encode_png
    other = re.compile(r"\.savefig\(|^\s*(from|import) PIL\b|\.print_png\(")
    found = [f"{name}:{i}" for name, path in MODULES.items()
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if other.search(line)]
    assert not found, f"PNG written another way (use rltutor._png.encode_png): {found}"


def test_readme_map_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## How the code is laid out")
    block = readme[readme.index("```text", start):readme.index("```\n", start + 30)]
    folders: dict[str, set[str]] = {}
    folder = "rltutor"
    for line in block.splitlines():
        name = line.strip().split(" ")[0] if line.strip() else ""
        if line.startswith("  ") and not line.startswith("    ") and name.endswith("/"):
            folder = f"rltutor/{name.rstrip('/')}"
            folders.setdefault(folder, set()).add("__init__.py")  # the folder's own line
        elif name.endswith(".py"):
            top = line.startswith("  ") and not line.startswith("    ")
            folders.setdefault("rltutor" if top else folder, set()).add(name)
    missing = [str(path.relative_to(ROOT)) for path in MODULES.values()
               if path.name not in folders.get(str(path.parent.relative_to(ROOT)), set())
               and not re.fullmatch(r"lesson\d\d\.py", path.name)]
    assert not missing, f"add a line for each to README's 'How the code is laid out': {missing}"


# Modules that draw no widget must not load ipywidgets (a heavy import, and a sign that a
# layer reaches upward): importing them for evaluate(), a plot or a check stays light.
NO_WIDGETS = ["rltutor.training", "rltutor.plots", "rltutor.diagnostics", "rltutor.display",
              "rltutor.rollouts", "rltutor.policies", "rltutor.envs", "rltutor.errors",
              "rltutor.replay"]


def _loads_ipywidgets(*modules: str) -> bool:
    import subprocess
    import sys

    code = f"import sys; import {', '.join(modules)}; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return out.stdout.strip() == "True"


def test_modules_without_widgets_load_no_ipywidgets():
    if _loads_ipywidgets(*NO_WIDGETS):  # one interpreter for all; name culprits on failure
        culprits = [m for m in NO_WIDGETS if _loads_ipywidgets(m)]
        pytest.fail(f"these load ipywidgets though they draw no widget: {culprits}")
