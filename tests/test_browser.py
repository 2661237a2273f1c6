"""A real browser: JupyterLab serves notebook 10, headless Chromium (Debian's package, driven by
Playwright) runs all its cells, moves the mapping explorer's threshold slider, and the displayed
figure must change. This checks what a kernel-only test cannot: that the widgets render and the
browser -> kernel -> browser round trip works. A screenshot is kept on failure.

Needs ``/usr/bin/chromium`` (``.ci/run`` installs it with apt) and the ``playwright`` package (the
test extra). ``../shared/recipes/browser-test.md`` of the project records what works here.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import chromium_page

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/10_lecture_dashboards.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on 127.0.0.1 with a fixed token and private config/runtime/settings folders;
    stopped (SIGTERM, then kill) whatever happens."""
    port, token = _free_port(), secrets.token_hex(16)
    settings = tmp_path / "settings"
    notify = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notify.parent.mkdir(parents=True)
    notify.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), INN_STEGO_FAST="1")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={settings}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {proc.returncode}: {(tmp_path / 'lab.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not become ready within 60 s") from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server shuts its kernels down
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_notebook_10_dashboard_responds_in_a_real_browser(lab, tmp_path):
    from playwright.sync_api import expect

    url, token = lab
    start = time.monotonic()
    with chromium_page(tmp_path, note=f"; JupyterLab log: {tmp_path / 'lab.log'}") as page:
        page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}&reset")
        # "Run All" before the kernel exists silently runs nothing: wait for the kernel itself
        expect(page.locator(".jp-StatusBar-Widget", has_text="ipykernel) | Idle").first).to_be_visible()
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator('li[data-command="runmenu:run-all"]').click()
        figure = page.locator(".inn-mapping-figure img").first
        expect(figure).to_be_visible()
        before = figure.get_attribute("src")
        handle = page.locator(".inn-mapping-t .noUi-handle").first
        handle.focus()
        handle.press("End")  # threshold t to 1.0: every mapped 1 now reads as 0
        expect(handle).to_have_attribute("aria-valuenow", "1.0")
        expect(page.locator(".inn-mapping-t .widget-readout").first).to_have_text("1.00")
        expect(figure).not_to_have_attribute("src", before)  # the kernel redrew the figure
    print(f"browser test took {time.monotonic() - start:.0f} s")
