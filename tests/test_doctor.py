"""rltutor doctor: each check healthy and failing (facts simulated), the renderers, the
notebook entry point, and one real ParallelEnv start (slow)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rltutor
import rltutor.doctor as doctor_package
from rltutor.doctor import CheckResult, DoctorReport, run_checks, to_html, to_text
from rltutor.doctor import _packages as packages
from rltutor.doctor import _processes as processes
from rltutor.doctor import _runtime as runtime

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ["torch>=2.13,<2.14", "tensordict>=0.14.3,<0.15", 'pytest>=8; extra == "dev"']
PINS = {"torch": "2.13.0", "tensordict": "0.14.3", "pytest": "9.2.0"}


def statuses(results):
    return [r.status for r in results]


# ------------------------------------------------------------------ versions

def test_versions_matching_the_pins_are_one_ok_line():
    results = packages.compare_versions(requirements=REQUIREMENTS, pins=PINS,
                                        installed={"torch": "2.13.0+cpu", "tensordict": "0.14.3"})
    assert statuses(results) == ["ok"]
    assert "torch 2.13.0+cpu" in results[0].detail and "pytest" not in results[0].detail


@pytest.mark.parametrize(("installed", "status", "words"), [
    (None, "fail", "not installed"),
    ("0.13.0", "fail", "outside rltutor's range"),
    ("0.14.4", "warn", "not the tested 0.14.3"),
])
def test_a_drifted_package_is_named_with_its_pin(installed, status, words):
    results = packages.compare_versions(requirements=REQUIREMENTS, pins=PINS,
                                        installed={"torch": "2.13.0", "tensordict": installed})
    bad = [r for r in results if r.name == "tensordict"]
    assert statuses(bad) == [status] and words in bad[0].detail
    assert bad[0].fix == 'pip install "tensordict==0.14.3"'


def test_pins_are_read_from_the_shipped_constraints():
    pins = packages.read_pins((ROOT / "constraints.txt").read_text())
    assert pins["torchrl"] == "0.14.1" and pins["jupyter-core"]


def test_this_environment_matches_its_pins():
    assert statuses(packages.check_versions()) == ["ok"]


# ------------------------------------------------------------- torchrl's extension

def test_the_extension_loading_is_ok():
    result = packages.judge_torchrl_extension(error=None, torch_version="2.14.1",
                                              torchrl_version="0.14.1")
    assert result.status == "ok" and "prioritized replay is available" in result.detail


def test_the_extension_failing_is_a_warning_with_its_consequence():
    error = ImportError("/x/_torchrl.so: undefined symbol: _ZN5torch8autograd13_wrap")
    result = packages.judge_torchrl_extension(error=error, torch_version="2.13.0+cpu",
                                              torchrl_version="0.14.1")
    assert result.status == "warn"  # no lesson needs prioritized replay
    assert "PrioritizedReplayBuffer" in result.detail and "no lesson" in result.detail
    assert "torch 2.14.x" in result.fix


def test_the_extension_is_reported_as_it_is_here():
    import importlib

    try:
        importlib.import_module("torchrl._torchrl")
        loads = True
    except ImportError:
        loads = False
    assert statuses(packages.check_torchrl_extension()) == ["ok" if loads else "warn"]


# ------------------------------------------------------------- tensordict and torchrl

def test_tensordict_and_torchrl_agreeing():
    result = packages.judge_tensordict_torchrl(
        tensordict="0.14.3", torchrl="0.14.1", torchrl_requires=["tensordict<0.15.0,>=0.14.3"],
        import_error=None)
    assert result.status == "ok"


@pytest.mark.parametrize(("facts", "words"), [
    ({"tensordict": "0.13.2"}, "needs tensordict"),
    ({"tensordict": None}, "tensordict is not installed"),
    ({"import_error": ImportError("cannot import name 'NonTensorStack'")}, "import torchrl fails"),
])
def test_tensordict_and_torchrl_disagreeing(facts, words):
    given = {"tensordict": "0.14.3", "torchrl": "0.14.1", "import_error": None,
             "torchrl_requires": ["tensordict<0.15.0,>=0.14.3"], **facts}
    result = packages.judge_tensordict_torchrl(**given)
    assert result.status == "fail" and words in result.detail and result.fix


# ------------------------------------------------------------------ widgets

WIDGETS = {"ipywidgets": "8.1.9", "jupyterlab": "4.6.6", "jupyterlab_widgets": "3.0.17",
           "labextension": Path("/x/@jupyter-widgets/jupyterlab-manager")}


@pytest.mark.parametrize(("facts", "status", "words"), [
    ({}, "ok", "jupyterlab-manager 3.0.17"),
    ({"ipywidgets": None}, "fail", "every lesson imports it"),
    ({"jupyterlab": None}, "warn", "JupyterLab is not installed"),
    ({"labextension": None}, "fail", "Error displaying widget"),
    ({"jupyterlab_widgets": "1.1.0"}, "fail", "needs jupyterlab_widgets 3.x"),
])
def test_the_widget_frontend(facts, status, words):
    result = packages.judge_widgets(**{**WIDGETS, **facts})
    assert result.status == status and words in result.detail


def test_the_widget_extension_is_found_here():
    assert packages.find_labextension() is not None
    assert statuses(packages.check_widgets()) == ["ok"]


# ------------------------------------------------------------------ matplotlib

def test_matplotlib_healthy_and_broken():
    ok = runtime.judge_matplotlib(backend="module://matplotlib_inline.backend_inline",
                                  agg_error=None, mplbackend_env=None)
    assert ok.status == "ok" and "inline in a notebook" in ok.detail
    no_backend = runtime.judge_matplotlib(backend=ValueError("'qtx' is not a valid backend"),
                                          agg_error=None, mplbackend_env="qtx")
    assert no_backend.status == "fail" and no_backend.fix == "unset MPLBACKEND"
    no_drawing = runtime.judge_matplotlib(backend="agg", agg_error=OSError("no freetype"),
                                          mplbackend_env=None)
    assert no_drawing.status == "fail" and "no freetype" in no_drawing.detail


def test_a_bad_mplbackend_is_caught_here(monkeypatch):
    import matplotlib

    monkeypatch.setattr(matplotlib, "get_backend", lambda: (_ for _ in ()).throw(
        ValueError("'qtx' is not a valid value for backend")))
    monkeypatch.setenv("MPLBACKEND", "qtx")
    assert runtime.check_matplotlib()[0].fix == "unset MPLBACKEND"


# ------------------------------------------------------------------ devices

def test_devices_on_a_cpu_machine():
    results = runtime.judge_devices(cuda=False, mps=False, step=runtime.run_policy_step,
                                    torch_cuda_build=None, gpu_present=False)
    assert statuses(results) == ["ok", "skip", "skip"]


def test_a_gpu_that_torch_does_not_see_is_named():
    results = runtime.judge_devices(cuda=False, mps=False, step=lambda d: d,
                                    torch_cuda_build=None, gpu_present=True)
    assert results[1].status == "warn" and "CPU-only build" in results[1].detail


def test_a_device_whose_step_fails_fails():
    def step(device):
        if device == "cuda":
            raise RuntimeError("CUDA error: no kernel image is available for execution")
        return device

    results = runtime.judge_devices(cuda=True, mps=False, step=step, torch_cuda_build="12.8",
                                    gpu_present=True)
    assert statuses(results) == ["ok", "fail", "skip"]
    assert "no kernel image" in results[1].detail and "CUDA_VISIBLE_DEVICES" in results[1].fix


def test_an_action_on_the_wrong_device_fails():
    results = runtime.judge_devices(cuda=False, mps=True, step=lambda d: "cpu",
                                    torch_cuda_build=None, gpu_present=False)
    assert statuses(results) == ["ok", "skip", "fail"]


def test_the_cpu_step_leaves_the_global_rng_alone():
    import torch

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    runtime.run_policy_step("cpu")
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------- start method and ParallelEnv

def test_start_methods_lesson_08_needs():
    ok = processes.judge_start_method(current=None, offered=["fork", "spawn", "forkserver"],
                                      default="fork", cuda=False)
    assert ok.status == "ok" and "not set, so fork" in ok.detail
    windows = processes.judge_start_method(current=None, offered=["spawn"], default="spawn",
                                           cuda=False)
    assert windows.status == "fail" and "fork, forkserver" in windows.detail
    assert "WSL" in windows.fix


@pytest.mark.parametrize(("run", "words"), [
    (processes.ProbeRun(None, "", 120.0), "did not finish in 120 s"),
    (processes.ProbeRun(1, "Traceback ...\nOSError: [Errno 28] No space left on device\n", 2.0),
     "No space left on device"),
    (processes.ProbeRun(0, "", 2.0), "failed"),  # exited cleanly without stepping
])
def test_a_parallel_env_that_does_not_start_fails(run, words):
    result = processes.judge_parallel_env(method="fork", run=run)
    assert result.status == "fail" and words in result.detail and "/dev/shm" in result.fix


def test_a_parallel_env_that_starts():
    result = processes.judge_parallel_env(method="fork",
                                          run=processes.ProbeRun(0, "batch (2, 3)\n", 3.2))
    assert result.status == "ok" and "3.2 s" in result.detail


def test_the_probe_is_left_out_when_quick(monkeypatch):
    monkeypatch.setattr(processes, "start_parallel_env", lambda *a, **k: pytest.fail("started"))
    assert statuses(processes.check_parallel_env(quick=True)) == ["skip"]


@pytest.mark.slow
def test_a_real_parallel_env_starts_here():
    assert statuses(processes.check_parallel_env()) == ["ok"]


# --------------------------------------------------------- gymnasium and chromium

def test_the_envs_checked_are_the_envs_the_lessons_make():
    used = {m for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py")
            for m in re.findall(r"[\"']([A-Z][A-Za-z]+-v\d+)[\"']", p.read_text(encoding="utf-8"))}
    assert used == set(runtime.LESSON_ENVS)


def test_gym_envs_healthy_and_missing():
    assert statuses(runtime.check_gym_envs()) == ["ok", "ok"]

    def make(env_id):
        raise ModuleNotFoundError("pygame is not installed, run `pip install "
                                  "gymnasium[classic-control]`")

    results = runtime.judge_gym_envs(env_ids=["CartPole-v1"], make=make)
    assert results[0].status == "fail" and "pygame" in results[0].detail


def test_chromium_is_optional(tmp_path):
    assert statuses(runtime.check_chromium(candidates=[str(tmp_path / "none")])) == ["skip"]
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    assert statuses(runtime.check_chromium(candidates=[str(browser)])) == ["ok"]


# ------------------------------------------------------ all checks, rendering, notebook

def test_this_machine_is_ready_without_the_probe():
    report = run_checks(quick=True)
    assert report.exit_code == 0, str(report)
    assert {r.name for r in report} >= {"versions", "torchrl C++ extension", "widget frontend",
                                        "matplotlib", "device cpu", "start method",
                                        "gymnasium CartPole-v1", "ParallelEnv"}


def test_a_crashing_check_is_a_failed_line_and_the_others_still_run(monkeypatch):
    def check_broken():
        raise KeyError("surprise")

    monkeypatch.setattr(doctor_package, "CHECKS",
                        (check_broken, lambda: [CheckResult("fine", "ok", "yes")]))
    report = run_checks(quick=True)
    assert statuses(report) == ["fail", "ok", "skip"]
    assert report[0].name == "broken" and "surprise" in report[0].detail
    assert report.exit_code == 1


def test_text_has_one_line_per_check_and_a_verdict():
    results = [CheckResult("a", "ok", "fine"), CheckResult("b", "fail", "broken", "do x"),
               CheckResult("c", "skip", "n/a")]
    lines = to_text(results).splitlines()
    assert lines[:3] == ["✓ a: fine", "✗ b: broken | fix: do x", "- c: n/a"]
    assert "a lesson would fail here" in lines[3]


def test_html_draws_the_same_rows():
    results = [CheckResult("a", "ok", "fine"), CheckResult("b <i>", "warn", "odd", "do x")]
    page = to_html(results)
    assert page.count("<tr data-status=") == 2 and "b &lt;i&gt;" in page
    assert "<style>" in page and 'style="' not in page  # CSS from static/doctor.css


def test_a_failed_result_without_a_fix_is_refused():
    with pytest.raises(ValueError, match="needs a fix"):
        CheckResult("a", "fail", "broken")


def test_rltutor_doctor_is_callable_in_a_notebook(monkeypatch):
    monkeypatch.setattr(doctor_package, "CHECKS", (lambda: [CheckResult("fine", "ok", "y")],))
    report = rltutor.doctor(quick=True)
    assert isinstance(report, DoctorReport)
    assert report._repr_html_() == to_html(report) and str(report) == to_text(report)


def test_import_rltutor_then_doctor_works_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = ("import sys, rltutor; doctor = rltutor.doctor; "  # nothing imported it before
            "sys.modules['rltutor.doctor'].CHECKS = (); "
            "print(type(doctor(quick=True)).__name__, callable(rltutor.doctor))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "DoctorReport True"


def test_fixes_name_the_pinned_versions():
    # a learner with the wheel has no constraints.txt at hand: the fix carries the versions
    result = packages.judge_widgets(**{**WIDGETS, "labextension": None})
    assert result.fix == 'pip install "jupyterlab_widgets==3.0.17", then restart JupyterLab'
    broken = packages.judge_tensordict_torchrl(tensordict="0.14.3", torchrl="0.14.1",
                                               torchrl_requires=[], import_error=OSError("x"))
    assert broken.fix == ('pip install --force-reinstall "torchrl==0.14.1" '
                          '"tensordict==0.14.3"')
