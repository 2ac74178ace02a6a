"""Checks on what is installed: versions against the pins, torchrl's C++ extension,
tensordict against torchrl, the widget frontend.

Each ``judge_*``/``compare_*`` function is pure (facts in, results out, what the tests
drive); each ``check_*`` gathers the facts from this machine and calls it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata as metadata
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from rltutor.course import course_root
from rltutor.doctor._result import CheckResult

__all__ = ["check_tensordict_torchrl", "check_torchrl_extension", "check_versions",
           "check_widgets", "compare_versions", "find_labextension", "installed_version",
           "judge_tensordict_torchrl", "judge_torchrl_extension", "judge_widgets",
           "pinned_install", "read_pins", "shipped_pins", "short_error"]

# torchrl's wheels are built against one torch release (their release notes say which);
# its C++ extension loads only under that torch.
TORCH_FOR_TORCHRL = {"0.14": "2.14"}
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def canonical(name: str) -> str:
    """A distribution name as pip compares them.

    Args:
        name: a distribution name.

    >>> canonical("Jupyter_Core")
    'jupyter-core'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def short_error(error: BaseException, max_chars: int = 120) -> str:
    """``"TypeName: message"``, first line only, cut to ``max_chars``.

    Args:
        error: the exception.
        max_chars: the longest message kept.

    >>> short_error(ImportError("undefined symbol: " + "x" * 200), max_chars=20)
    'ImportError: undefined symbol: xx…'
    """
    message = (str(error).splitlines() or [""])[0]
    if len(message) > max_chars:
        message = message[:max_chars] + "…"
    return f"{type(error).__name__}: {message}"


def read_pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a constraints file, by canonical name.

    Args:
        text: the file's text.

    >>> read_pins("# comment\\ntorch==2.13.0\\nJupyter_Core==5.9.1\\n")
    {'torch': '2.13.0', 'jupyter-core': '5.9.1'}
    """
    pins = {}
    for line in text.splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            pins[canonical(name)] = version.strip()
    return pins


@functools.cache
def shipped_pins() -> dict[str, str]:
    """The pins of the ``constraints.txt`` that came with this rltutor (wheel or checkout).

    >>> shipped_pins()["torchrl"]
    '0.14.1'
    """
    path = course_root() / "constraints.txt"
    return read_pins(path.read_text(encoding="utf-8")) if path.exists() else {}


def pinned_install(*names: str, options: str = "") -> str:
    """A pip command installing ``names`` at their pinned versions (a learner who installed
    the wheel has no constraints.txt at hand, so the fix names the versions).

    Args:
        names: distribution names, extras allowed (``"gymnasium[classic-control]"``).
        options: pip options to put first, such as ``"--force-reinstall"``.

    >>> pinned_install("torchrl", "no-such-package")
    'pip install "torchrl==0.14.1" no-such-package'
    """
    pins = shipped_pins()
    specs = [f'"{n}=={pins[canonical(n.split("[")[0])]}"' if canonical(n.split("[")[0]) in pins
             else n for n in names]
    return " ".join(["pip install", *([options] if options else []), *specs])


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None.

    Args:
        name: a distribution name.

    >>> installed_version("no-such-distribution-here") is None
    True
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _public(version: str) -> str:
    try:
        return Version(version).public  # "2.13.0+cpu" is the pinned 2.13.0
    except InvalidVersion:
        return version


def compare_versions(*, requirements: Sequence[str], installed: Mapping[str, str | None],
                     pins: Mapping[str, str]) -> list[CheckResult]:
    """rltutor's dependencies against its ranges (outside: fail) and the pins (off: warn).

    Args:
        requirements: rltutor's requirement strings (extras are left out).
        installed: the installed version of each, None when missing.
        pins: the exact versions of ``constraints.txt``, by canonical name.

    >>> compare_versions(requirements=["torch>=2.13,<2.14"], installed={"torch": "2.12.0"},
    ...                  pins={"torch": "2.13.0"})[0].status
    'fail'
    """
    results, matched = [], []
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and "extra" in str(req.marker):
            continue
        name, pin = canonical(req.name), pins.get(canonical(req.name))
        have = installed.get(req.name, installed.get(name))
        fix = f'pip install "{req.name}{f"=={pin}" if pin else req.specifier}"'
        if have is None:
            results.append(CheckResult(req.name, "fail", "not installed", fix))
        elif not req.specifier.contains(_public(have), prereleases=True):
            results.append(CheckResult(req.name, "fail", f"{have} is outside rltutor's range "
                                       f"{req.specifier}: lessons may break", fix))
        elif pin and _public(have) != pin:
            results.append(CheckResult(req.name, "warn", f"{have}, not the tested {pin}: "
                                       "printed outputs may differ from the lessons'", fix))
        else:
            matched.append(f"{req.name} {have}")
    if matched:
        results.insert(0, CheckResult("versions", "ok", f"{len(matched)} of rltutor's "
                                      "dependencies match: " + ", ".join(matched)))
    return results


def check_versions() -> list[CheckResult]:
    """Installed versions against rltutor's ranges and ``constraints.txt``.

    >>> check_versions()[0].name
    'versions'
    """
    try:
        requirements = metadata.requires("rltutor") or []
    except metadata.PackageNotFoundError:
        return [CheckResult("versions", "warn", "rltutor is imported from a folder, not "
                            "installed, so its requirements are unknown",
                            'pip install -c constraints.txt -e "."')]
    names = [Requirement(r).name for r in requirements]
    return compare_versions(requirements=requirements, pins=shipped_pins(),
                            installed={n: installed_version(n) for n in names})


def judge_torchrl_extension(*, error: BaseException | None, torch_version: str,
                            torchrl_version: str) -> CheckResult:
    """torchrl's C++ extension: a warning when it does not load, since no lesson needs it.

    Args:
        error: what importing ``torchrl._torchrl`` raised, None when it loaded.
        torch_version: the installed torch.
        torchrl_version: the installed torchrl.

    >>> judge_torchrl_extension(error=None, torch_version="2.14.1",
    ...                         torchrl_version="0.14.1").status
    'ok'
    """
    name = "torchrl C++ extension"
    if error is None:
        return CheckResult(name, "ok", f"loads (torch {torch_version}, torchrl "
                           f"{torchrl_version}): prioritized replay is available")
    built_for = TORCH_FOR_TORCHRL.get(".".join(torchrl_version.split(".")[:2]))
    target = f"torch {built_for}.x" if built_for else "the torch its release notes name"
    reason = ("an undefined symbol: it was built against another torch"
              if "undefined symbol" in str(error) else short_error(error, 60))
    return CheckResult(
        name, "warn",
        f"does not load under torch {torch_version} ({reason}): "
        "PrioritizedReplayBuffer and TorchRL's other segment-tree samplers are unavailable; "
        "no lesson uses them",
        f"only if you need prioritized replay: install {target}, which torchrl "
        f"{torchrl_version} was built for")


def check_torchrl_extension() -> list[CheckResult]:
    """Whether ``torchrl._torchrl`` (prioritized replay's segment trees) loads.

    >>> check_torchrl_extension()[0].status in ("ok", "warn")
    True
    """
    try:
        importlib.import_module("torchrl")
    except Exception as error:  # a broken torchrl is reported by check_tensordict_torchrl
        return [CheckResult("torchrl C++ extension", "skip",
                            f"torchrl does not import ({short_error(error, 60)})")]
    error = None
    try:
        importlib.import_module("torchrl._torchrl")
    except Exception as caught:  # an ImportError with an undefined symbol, typically
        error = caught
    return [judge_torchrl_extension(error=error, torch_version=installed_version("torch") or "?",
                                    torchrl_version=installed_version("torchrl") or "?")]


def judge_tensordict_torchrl(*, tensordict: str | None, torchrl: str | None,
                             torchrl_requires: Sequence[str],
                             import_error: BaseException | None) -> CheckResult:
    """Does the installed tensordict meet torchrl's own requirement, and does torchrl import?

    Args:
        tensordict: installed tensordict version, or None.
        torchrl: installed torchrl version, or None.
        torchrl_requires: torchrl's requirement strings (its metadata).
        import_error: what ``import torchrl`` raised, or None.

    >>> judge_tensordict_torchrl(tensordict="0.13.0", torchrl="0.14.1",
    ...     torchrl_requires=["tensordict<0.15.0,>=0.14.3"], import_error=None).status
    'fail'
    """
    name = "tensordict and torchrl"
    if tensordict is None or torchrl is None:
        missing = "tensordict" if tensordict is None else "torchrl"
        return CheckResult(name, "fail", f"{missing} is not installed",
                           pinned_install(missing))
    wanted = next((Requirement(r) for r in torchrl_requires
                   if canonical(Requirement(r).name) == "tensordict"
                   and Requirement(r).marker is None), None)
    if wanted is not None and not wanted.specifier.contains(_public(tensordict), True):
        return CheckResult(name, "fail", f"torchrl {torchrl} needs tensordict "
                           f"{wanted.specifier}, this is {tensordict}",
                           f'pip install "tensordict{wanted.specifier}"')
    if import_error is not None:
        return CheckResult(name, "fail", f"import torchrl fails: {short_error(import_error)}",
                           pinned_install("torchrl", "tensordict", options="--force-reinstall"))
    need = f" (torchrl needs {wanted.specifier})" if wanted is not None else ""
    return CheckResult(name, "ok", f"tensordict {tensordict} with torchrl {torchrl}{need}; "
                       "torchrl imports")


def check_tensordict_torchrl() -> list[CheckResult]:
    """tensordict against torchrl's requirement, and ``import torchrl``.

    >>> check_tensordict_torchrl()[0].name
    'tensordict and torchrl'
    """
    torchrl = installed_version("torchrl")
    error = None
    try:
        importlib.import_module("torchrl")
    except Exception as caught:
        error = caught
    requires = (metadata.requires("torchrl") or []) if torchrl else []
    return [judge_tensordict_torchrl(tensordict=installed_version("tensordict"), torchrl=torchrl,
                                     torchrl_requires=requires, import_error=error)]


def find_labextension(name: str = WIDGETS_EXTENSION) -> Path | None:
    """The folder of JupyterLab extension ``name`` in Jupyter's data paths, or None.

    Args:
        name: the extension's npm name.

    >>> find_labextension("@nobody/no-such-extension") is None
    True
    """
    try:
        from jupyter_core.paths import jupyter_path  # comes with JupyterLab
        roots = [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        roots = [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]
    return next((r / name for r in roots if (r / name / "package.json").is_file()), None)


def judge_widgets(*, ipywidgets: str | None, jupyterlab: str | None,
                  jupyterlab_widgets: str | None, labextension: Path | None) -> CheckResult:
    """Can JupyterLab draw the lessons' widgets (ipywidgets and its frontend agree)?

    Args:
        ipywidgets: installed ipywidgets version, or None.
        jupyterlab: installed JupyterLab version, or None.
        jupyterlab_widgets: installed jupyterlab_widgets (the frontend), or None.
        labextension: where JupyterLab finds the widget extension, or None.

    >>> judge_widgets(ipywidgets="8.1.9", jupyterlab="4.6.6", jupyterlab_widgets=None,
    ...               labextension=None).status
    'fail'
    """
    name = "widget frontend"
    if ipywidgets is None:
        return CheckResult(name, "fail", "ipywidgets is not installed: every lesson imports it",
                           pinned_install("ipywidgets"))
    if jupyterlab is None:
        return CheckResult(name, "warn", f"ipywidgets {ipywidgets}, but JupyterLab is not "
                           "installed: the lessons run, their widgets need a Jupyter frontend",
                           "pip install 'jupyterlab>=4.2,<5' (then: rltutor lab)")
    if jupyterlab_widgets is None or labextension is None:
        return CheckResult(name, "fail", f"JupyterLab {jupyterlab} has no {WIDGETS_EXTENSION} "
                           "extension: widgets show 'Error displaying widget'",
                           pinned_install("jupyterlab_widgets") + ", then restart JupyterLab")
    if ipywidgets.split(".")[0] == "8" and not jupyterlab_widgets.startswith("3."):
        return CheckResult(name, "fail", f"ipywidgets {ipywidgets} needs jupyterlab_widgets "
                           f"3.x, this is {jupyterlab_widgets}",
                           pinned_install("ipywidgets", "jupyterlab_widgets"))
    return CheckResult(name, "ok", f"ipywidgets {ipywidgets}, JupyterLab {jupyterlab} with "
                       f"{WIDGETS_EXTENSION} {jupyterlab_widgets}")


def check_widgets() -> list[CheckResult]:
    """ipywidgets, JupyterLab and the widget extension JupyterLab loads.

    >>> check_widgets()[0].name
    'widget frontend'
    """
    return [judge_widgets(ipywidgets=installed_version("ipywidgets"),
                          jupyterlab=installed_version("jupyterlab"),
                          jupyterlab_widgets=installed_version("jupyterlab_widgets"),
                          labextension=find_labextension())]
