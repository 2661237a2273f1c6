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


def launch_chromium(playwright, profile):
    """Headless Chromium off the network, as root, with a fresh profile (../shared/recipes/browser-test.md)."""
    import shutil
    from pathlib import Path

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), \
        "Chromium is missing: apt-get install -y --no-install-recommends chromium (.ci/run does this)"
    browser = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"], viewport={"width": 1400, "height": 1000})
    return browser, (browser.pages[0] if browser.pages else browser.new_page())
