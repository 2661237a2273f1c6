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
