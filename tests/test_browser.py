"""The explorer in real JupyterLab, driven by headless Chromium through Playwright.

Starts JupyterLab on 127.0.0.1 (token auth, throwaway config/runtime/settings folders),
opens a lesson with an explorer, runs all cells, moves the epsilon slider and the
exploration menu (with the mouse's API, then with the keyboard alone: Tab and arrow
keys), and checks that the plot image and the summary changed. Screenshots
go to tests/artifacts/ (gitignored).

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install -y chromium``); without
it the test skips, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
LESSON = ROOT / "lessons" / "04_exploration_modules.ipynb"
FIXTURE = ROOT / "tests" / "fixtures" / "explorer_demo.ipynb"
# The lesson that teaches exploration is the one a learner plays with; the fixture is a
# minimal stand-in for when the lesson is missing.
NOTEBOOK = LESSON if LESSON.exists() else FIXTURE
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
RUN_ALL_TIMEOUT_MS = 240_000


def _require_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = "no /usr/bin/chromium"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed"
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser test cannot run under CI=true: {reason}")
    pytest.skip(f"{reason}: enable with `apt-get install -y chromium` (Debian) and `pip install "
                "playwright`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - localhost
        return response.read()


def _write_settings(settings_dir: Path) -> None:
    """No news/update pop-ups and no autosave: nothing but the notebook on screen."""
    files = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false", "checkForUpdates": False,
        },
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }
    for name, content in files.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory):
    _require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    root.mkdir()
    # A copy: the repository's notebook is never touched by the browser session.
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    _write_settings(tmp / "settings")
    token, port = secrets.token_hex(16), _free_port()
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "jupyter.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(tmp / 'jupyter.log').read_text()}")
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        yield {"base": base, "token": token, "notebook": NOTEBOOK.name}
    finally:
        try:  # kernels outlive pages: shut every session down
            sessions = json.loads(_get(f"{base}/api/sessions?token={token}"))
            for s in sessions:
                req = urllib.request.Request(f"{base}/api/sessions/{s['id']}?token={token}",
                                             method="DELETE")
                urllib.request.urlopen(req, timeout=5).close()  # noqa: S310
        except OSError:
            pass
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _only_localhost(route) -> None:
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def _panel_state(page) -> dict:
    return page.evaluate(
        """() => {
            const panel = document.querySelector('.rltutor-explorer');
            const img = panel.querySelector('.rltutor-plot');
            return {
                src: img ? img.getAttribute('src') : null,
                summary: panel.querySelector('.rltutor-summary').textContent,
                error: panel.querySelector('.rltutor-error').textContent,
            };
        }"""
    )


def _wait_changed(page, before: dict, timeout_ms: int = 30_000) -> dict:
    page.wait_for_function(
        """([src, summary]) => {
            const panel = document.querySelector('.rltutor-explorer');
            return panel.querySelector('.rltutor-plot').getAttribute('src') !== src
                && panel.querySelector('.rltutor-summary').textContent !== summary;
        }""",
        arg=[before["src"], before["summary"]],
        timeout=timeout_ms,
    )
    return _panel_state(page)


def _shot(page, name: str) -> Path:
    panel = page.locator(".rltutor-explorer").first
    page.evaluate("() => document.querySelector('.rltutor-explorer .rltutor-plot').decode()")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    panel.screenshot(path=str(path))
    return path


def _exploratory_percent(summary: str) -> int:
    # summary cells: "... exploratory (≠ deterministic)23% (46 of 200) ..."
    match = re.search(r"(\d+)% \(\d+ of \d+\)", summary)
    assert match, f"no exploratory share in the summary: {summary!r}"
    return int(match.group(1))


def test_explorer_in_jupyterlab(jupyter_lab):
    from playwright.sync_api import sync_playwright

    lab = jupyter_lab
    url = f"{lab['base']}/lab/tree/{lab['notebook']}?token={lab['token']}&reset"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.route("**/*", _only_localhost)
            page.goto(url)
            status = page.locator("#jp-main-statusbar")
            status.get_by_text("Idle").wait_for(timeout=60_000)

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator('li[data-command="runmenu:run-all"]').click()
            panel = page.locator(".rltutor-explorer").first
            panel.wait_for(timeout=RUN_ALL_TIMEOUT_MS)
            page.wait_for_function(
                "() => document.querySelector('.rltutor-explorer .rltutor-plot')?.src",
                timeout=30_000,
            )
            panel.scroll_into_view_if_needed()
            before = _panel_state(page)
            assert before["src"] and "total reward" in before["summary"]
            assert before["error"].strip() == ""
            _shot(page, "explorer_before.png")

            # epsilon: the noUiSlider handle takes keys; End jumps to 1.0 in one change
            # (eight ArrowRight presses would queue eight reruns and race the checks)
            readout = panel.locator(".rltutor-epsilon .widget-readout")
            assert float(readout.inner_text()) < 1.0
            handle = panel.locator(".rltutor-epsilon .noUi-handle")
            handle.focus()
            handle.press("End")
            after_eps = _wait_changed(page, before)
            assert float(readout.inner_text()) == pytest.approx(1.0)
            assert after_eps["error"].strip() == ""
            assert _exploratory_percent(after_eps["summary"]) > _exploratory_percent(
                before["summary"]
            )
            _shot(page, "explorer_after_epsilon.png")

            # exploration menu: deterministic turns every exploratory action off
            panel.locator(".rltutor-exploration select").select_option("deterministic")
            after_mode = _wait_changed(page, after_eps)
            assert _exploratory_percent(after_mode["summary"]) == 0
            assert after_mode["error"].strip() == ""
            _shot(page, "explorer_after_deterministic.png")

            # keyboard only (issue 26): Shift+Tab from the menu reaches the epsilon handle
            # (past its editable readout), and an arrow key moves it one step
            panel.locator(".rltutor-exploration select").focus()
            on_handle = "() => document.activeElement.matches('.rltutor-epsilon .noUi-handle')"
            for _ in range(2):
                page.keyboard.press("Shift+Tab")
                if page.evaluate(on_handle):
                    break
            focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 160)")
            assert page.evaluate(on_handle), f"Shift+Tab reached {focused}"
            page.keyboard.press("ArrowLeft")
            page.wait_for_function(
                "() => document.querySelector('.rltutor-epsilon .widget-readout')"
                ".textContent.trim() === '0.95'", timeout=30_000)
            _shot(page, "explorer_after_keyboard.png")
        finally:
            browser.close()
