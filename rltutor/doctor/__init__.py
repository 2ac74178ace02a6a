"""Is this machine ready for the course? One line per check, a fix where one fails.

From a shell: ``rltutor doctor`` (exits 1 when a lesson would fail here). In a notebook:
``rltutor.doctor()`` draws the same table. Every check is a function returning
:class:`CheckResult` lines; the renderers (``to_text``, ``to_html``) only format them::

    >>> print(to_text([CheckResult("device cpu", "ok", "one policy step")]))
    ✓ device cpu: one policy step
    1 ok, 0 warnings, 0 failures, 0 skipped: every lesson can run here

The package itself is callable, so ``rltutor.doctor()`` works whether ``rltutor.doctor``
was reached as a module or as the function.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

from rltutor.doctor._packages import (
    check_tensordict_torchrl,
    check_torchrl_extension,
    check_versions,
    check_widgets,
)
from rltutor.doctor._processes import check_parallel_env, check_start_method
from rltutor.doctor._result import CheckResult, DoctorReport, exit_code, to_html, to_text
from rltutor.doctor._runtime import (
    check_chromium,
    check_devices,
    check_gym_envs,
    check_matplotlib,
)

__all__ = ["CheckResult", "DoctorReport", "doctor", "exit_code", "run_checks", "to_html",
           "to_text"]

# In order: what is installed, then what runs. Each returns a list of CheckResult.
CHECKS: tuple[Callable[[], list[CheckResult]], ...] = (
    check_versions, check_torchrl_extension, check_tensordict_torchrl, check_widgets,
    check_matplotlib, check_devices, check_start_method, check_gym_envs, check_chromium,
)


def run_checks(*, quick: bool = False) -> DoctorReport:
    """Run every check; a check that crashes becomes a failed line, never a traceback.

    Args:
        quick: leave out the checks that start processes (the ``ParallelEnv`` probe).

    >>> [r.status for r in run_checks(quick=True) if r.name == "ParallelEnv"]
    ['skip']
    """
    results = DoctorReport()
    for check in (*CHECKS, lambda: check_parallel_env(quick=quick)):
        try:
            results.extend(check())
        except Exception as error:  # one broken check must not hide the others
            name = getattr(check, "__name__", "check").removeprefix("check_")
            results.append(CheckResult(name, "fail", f"the check crashed: "
                                       f"{type(error).__name__}: {error}"[:200],
                                       "report this with the output of `rltutor doctor`"))
    return results


def doctor(*, quick: bool = False) -> DoctorReport:
    """Check this machine for the course; in a notebook the result draws as a table.

    Args:
        quick: leave out the checks that start processes (several seconds).

    >>> report = doctor(quick=True)
    >>> print(report.to_text() if hasattr(report, "to_text") else report)  # doctest: +ELLIPSIS
    ✓ versions: ...
    """
    return run_checks(quick=quick)


class _CallableModule(types.ModuleType):
    """``rltutor.doctor(...)`` calls :func:`doctor` even when it names this package."""

    def __call__(self, *, quick: bool = False) -> DoctorReport:
        return doctor(quick=quick)


sys.modules[__name__].__class__ = _CallableModule
