"""One round-trip test for every invertible module of the package (FrEIA's contract: a module
with ``forward`` and ``inverse``, ``inverse(*forward(*x)) == x``)."""

import pytest
import torch
from torch import nn

from helpers.methods.baselines import Haar
from helpers.network.coupling import AffineCouplingBlock
from helpers.network.dense import DenseBlock
from helpers.network.model import StegoINN


def small_conv(c_in, c_out):  # any subnet works: the coupling never inverts it
    return nn.Sequential(nn.Conv2d(c_in, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, c_out, 3, padding=1))


MODULES = {  # name: (module factory, input shapes)
    "coupling block": (lambda: AffineCouplingBlock(lambda i, o: DenseBlock(i, o, last_init="default")),
                       [(2, 3, 16, 12)] * 2),
    "StegoINN": (lambda: StegoINN(n_blocks=3, last_init="default"), [(2, 3, 16, 12)] * 2),
    "StegoINN, another subnet": (lambda: StegoINN(n_blocks=2, subnet_constructor=small_conv), [(2, 3, 9, 7)] * 2),
    "StegoINN, 12 channels (HiNet-style)": (lambda: StegoINN(n_blocks=2, channels=12, last_init="default"),
                                            [(1, 12, 8, 8)] * 2),
    "Haar": (Haar, [(2, 3, 16, 12)]),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_every_invertible_module_round_trips(name):
    factory, shapes = MODULES[name]
    torch.manual_seed(0)
    module = factory().double().eval()
    inputs = [torch.rand(s, dtype=torch.float64) for s in shapes]
    with torch.no_grad():
        out = module(*inputs)
        out = out if isinstance(out, tuple) else (out,)
        back = module.inverse(*out)
    back = back if isinstance(back, tuple) else (back,)
    assert not all(o.shape == x.shape and torch.allclose(o, x) for o, x in zip(out, inputs))  # not the identity
    for b, x in zip(back, inputs, strict=True):
        assert torch.allclose(b, x, atol=1e-10), name


def test_a_custom_subnet_is_used():
    net = StegoINN(n_blocks=2, subnet_constructor=small_conv)
    assert all(isinstance(b.phi, nn.Sequential) for b in net.blocks)
    assert isinstance(StegoINN(n_blocks=1).blocks[0].rho, DenseBlock)

