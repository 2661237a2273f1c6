import pytest
import torch
from torch import nn

from helpers import AffineCouplingBlock, DenseBlock, StegoINN, soft_clamp
from helpers.data.photos import load_samples


def dense(c_in, c_out):
    return DenseBlock(c_in, c_out, last_init="default")


def random_block(dtype, seed=0):
    torch.manual_seed(seed)
    return AffineCouplingBlock(dense, 3, 3, clamp=2.0).to(dtype)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_one_block_round_trip_random_tensors(dtype, tol):
    block = random_block(dtype)
    g = torch.Generator().manual_seed(1)
    cover = torch.rand(2, 3, 20, 28, generator=g, dtype=dtype)
    secret = torch.rand(2, 3, 20, 28, generator=g, dtype=dtype)
    with torch.no_grad():
        c1, s1 = block(cover, secret)
        c0, s0 = block.inverse(c1, s1)
    # the block must really transform its input, or the round trip proves nothing
    assert (c1 - cover).abs().mean() > 1e-2 and (s1 - secret).abs().mean() > 1e-2
    assert (c0 - cover).abs().max() <= tol
    assert (s0 - secret).abs().max() <= tol


@pytest.mark.parametrize("dtype,tol,size", [(torch.float64, 1e-10, 32), (torch.float32, 1e-4, 128)])
def test_eight_blocks_round_trip_on_photos(random_inn, dtype, tol, size):
    model = random_inn(dtype)
    cover = load_samples(2)[..., :size, :size].to(dtype)
    secret_map = (torch.rand(cover.shape, generator=torch.Generator().manual_seed(2)) < 0.5).to(dtype) / 2
    with torch.no_grad():
        stego, z = model(cover, secret_map)
        cover_rev, secret_rev = model.inverse(stego, z)
    assert (stego - cover).abs().mean() > 1e-2
    assert (cover_rev - cover).abs().max() <= tol
    assert (secret_rev - secret_map).abs().max() <= tol


def test_eight_blocks_round_trip_random_tensors_float64(random_inn):
    model = random_inn(torch.float64)
    g = torch.Generator().manual_seed(3)
    cover, secret = torch.rand(3, 3, 17, 23, generator=g, dtype=torch.float64), torch.randn(3, 3, 17, 23, generator=g,
                                                                                           dtype=torch.float64)
    with torch.no_grad():
        cover_rev, secret_rev = model.inverse(*model(cover, secret))
    assert max((cover_rev - cover).abs().max(), (secret_rev - secret).abs().max()) <= 1e-10


def test_log_det_matches_autograd_jacobian():
    block = random_block(torch.float64)
    # tiny input so that the full Jacobian (2*3*4*5 = 120 square) is cheap
    cover, secret = torch.rand(1, 3, 4, 5, dtype=torch.float64), torch.rand(1, 3, 4, 5, dtype=torch.float64)

    def f(flat):
        c, s = flat[:60].reshape(1, 3, 4, 5), flat[60:].reshape(1, 3, 4, 5)
        c1, s1 = block(c, s)
        return torch.cat([c1.reshape(-1), s1.reshape(-1)])

    jac = torch.autograd.functional.jacobian(f, torch.cat([cover.reshape(-1), secret.reshape(-1)]))
    _, logdet_numeric = torch.linalg.slogdet(jac)
    _, _, logdet = block(cover, secret, return_log_det=True)
    assert abs(logdet.item()) > 1e-3
    assert logdet.item() == pytest.approx(logdet_numeric.item(), abs=1e-8)


def test_network_log_det_is_sum_of_blocks(random_inn):
    model = random_inn(torch.float64, n_blocks=3)
    cover, secret = torch.rand(2, 3, 8, 8, dtype=torch.float64), torch.rand(2, 3, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        *_, total = model(cover, secret, return_log_det=True)
        x, y, parts = cover, secret, []
        for b in model.blocks:
            x, y, ld = b(x, y, return_log_det=True)
            parts.append(ld)
    assert torch.allclose(total, sum(parts))


def test_soft_clamp_bounds_and_slope():
    s = torch.linspace(-1e4, 1e4, 10001, dtype=torch.float64)
    c = soft_clamp(s, 2.0)
    assert c.abs().max() <= 2.0 and c.max() > 1.99
    small = torch.tensor([1e-4], dtype=torch.float64)
    assert soft_clamp(small, 2.0).item() == pytest.approx(1e-4, rel=1e-6)  # slope 1 at 0
    assert torch.allclose(c, 2.0 * torch.tanh(s / 2))


def test_zero_initialised_network_is_identity():
    model = StegoINN(n_blocks=2)  # default last_init="zero"
    cover, secret = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        stego, z = model(cover, secret)
    assert torch.equal(stego, cover) and torch.equal(z, secret)


def test_parameter_count_of_paper_network():
    # 24 dense blocks (8 coupling blocks x phi, rho, eta), each 62,420 parameters at growth 32
    assert StegoINN().num_parameters() == 24 * 62_420


def test_shape_errors_are_clear():
    block = random_block(torch.float32)
    with pytest.raises(ValueError, match="secret must be a"):
        block(torch.rand(1, 3, 8, 8), torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="same batch size, height and width"):
        block(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))
    with pytest.raises(ValueError, match="clamp must be positive"):
        AffineCouplingBlock(dense, clamp=0)
    with pytest.raises(ValueError, match="last_init"):
        DenseBlock(3, 3, last_init="xavier")


def test_block_invertible_even_with_non_invertible_subnets():
    # phi, rho, eta that destroy information (ReLU of a sum, constants) still give an invertible block
    class Lossy(nn.Module):
        def __init__(self, c_in, c_out):
            super().__init__()
            self.c_out = c_out

        def forward(self, x):
            return torch.relu(x.sum(1, keepdim=True) - 1.0).expand(-1, self.c_out, -1, -1) * 3

    block = AffineCouplingBlock(Lossy, 3, 3).double()
    cover, secret = torch.rand(2, 3, 6, 6, dtype=torch.float64) * 2, torch.rand(2, 3, 6, 6, dtype=torch.float64)
    c0, s0 = block.inverse(*block(cover, secret))
    assert torch.allclose(c0, cover, atol=1e-12) and torch.allclose(s0, secret, atol=1e-12)


def test_stego_and_secret_alone_skip_the_subnets_that_only_shape_the_other_output(random_inn):
    """``embed_stego`` / ``extract_secret`` give exactly ``forward(...)[0]`` / ``inverse(...)[1]`` and run
    3N - 2 / 3N - 1 subnetworks: the last block's rho and eta shape only z, the first block's phi only
    the cover (blind mode's hide and reveal run these)."""
    g = torch.Generator().manual_seed(3)
    cover, secret = torch.rand(2, 3, 16, 16, generator=g), torch.rand(2, 3, 16, 16, generator=g)
    net, calls = random_inn(n_blocks=3), []
    for block in net.blocks:
        for sub in (block.phi, block.rho, block.eta):
            sub.register_forward_hook(lambda *_: calls.append(1))
    with torch.no_grad():
        stego, z = net(cover, secret)
        calls.clear()
        assert torch.equal(net.embed_stego(cover, secret), stego)
        assert len(calls) == 3 * 3 - 2
        calls.clear()
        secret_rev = net.extract_secret(stego, z)
        assert len(calls) == 3 * 3 - 1
        assert torch.equal(secret_rev, net.inverse(stego, z)[1])
