import contextlib
import shutil
from pathlib import Path

import pytest
import torch

from helpers import StegoINN


@pytest.fixture
def random_inn():
    """An 8-block network with random, non-zero weights in every layer (an identity network
    would pass every invertibility test without proving anything)."""
    def make(dtype=torch.float32, n_blocks=8, seed=0):
        torch.manual_seed(seed)
        return StegoINN(n_blocks=n_blocks, last_init="default").to(dtype).eval()
    return make


CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/run installs it); Playwright's own download does not work here


@contextlib.contextmanager
def chromium_page(tmp_path, note: str = ""):
    """A page of headless Chromium, off the network, as root, with a fresh profile
    (../shared/recipes/browser-test.md); on a failure a screenshot is kept in ``tmp_path``."""
    from playwright.sync_api import expect, sync_playwright

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), \
        "Chromium is missing: apt-get install -y --no-install-recommends chromium (.ci/run does this)"
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"], viewport={"width": 1400, "height": 1000})
        page = browser.pages[0] if browser.pages else browser.new_page()
        expect.set_options(timeout=60_000)  # a 2-core machine under load
        try:
            yield page
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"screenshot: {tmp_path / 'failure.png'}{note}")
            raise
        finally:
            browser.close()
