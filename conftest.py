"""Run-wide settings for the whole suite (unit tests and the notebooks under nbmake).

No test depends on the order tests run in: each starts with Python's, numpy's and torch's global
generators seeded from its own name, so the data of a test that draws from them (``torch.rand``
without a generator, say) is the same whether it runs alone, in file order or shuffled
(``--random-order``; pytest-random-order is in the test extra).

Tests never read the user's cache: ``INN_STEGO_CACHE`` points at a fresh temporary folder for the
run, whatever it was before, so a download, training run or export left in ``~/.cache/inn-stego``
(or in a folder the user named) never feeds an assertion. Notebook kernels, the command-line
subprocesses and the browser test's JupyterLab inherit it.
"""

import os
import random
import shutil
import tempfile
import zlib

import pytest


def pytest_configure(config):
    from helpers.settings import CACHE_ENV

    config.inn_stego_cache = tempfile.mkdtemp(prefix="inn-stego-test-cache-")
    config.inn_stego_cache_before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = config.inn_stego_cache


def pytest_unconfigure(config):
    from helpers.settings import CACHE_ENV

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


@pytest.fixture(autouse=True)
def _seeded_per_test(request):
    """The global generators seeded from the test's id (module docstring); notebooks seed themselves."""
    import numpy as np
    import torch

    seed = zlib.crc32(request.node.nodeid.encode())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
