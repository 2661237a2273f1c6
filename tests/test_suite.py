"""The suite's own hygiene (the root conftest.py): a test's data does not depend on what ran before it."""

import random
import zlib

import numpy as np
import torch


def _draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_every_test_starts_with_generators_seeded_from_its_own_name(request):
    first = _draws()  # whatever ran before this test, and in whatever order
    seed = zlib.crc32(request.node.nodeid.encode())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    assert first == _draws()
