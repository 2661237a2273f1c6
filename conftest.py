"""Run-wide settings for the whole suite (unit tests and the notebooks under nbmake).

Tests never read the user's cache: ``INN_STEGO_CACHE`` points at a fresh temporary folder for the
run, whatever it was before, so a download, training run or export left in ``~/.cache/inn-stego``
(or in a folder the user named) never feeds an assertion. Notebook kernels, the command-line
subprocesses and the browser test's JupyterLab inherit it.
"""

import os
import shutil
import tempfile

import pytest

CACHE_ENV = "INN_STEGO_CACHE"  # helpers.settings.CACHE_ENV; not imported, so torch loads only when a test needs it


def pytest_configure(config):
    config.inn_stego_cache = tempfile.mkdtemp(prefix="inn-stego-test-cache-")
    config.inn_stego_cache_before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = config.inn_stego_cache


def pytest_unconfigure(config):
    before = getattr(config, "inn_stego_cache_before", None)
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before
    shutil.rmtree(getattr(config, "inn_stego_cache", ""), ignore_errors=True)


@pytest.fixture(scope="session")
def run_cache(pytestconfig):
    """The run's own cache folder (``INN_STEGO_CACHE`` during the suite)."""
    return pytestconfig.inn_stego_cache
