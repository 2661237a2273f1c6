"""Where does the message live? The measurements of notebook 09, as plain functions.

Part 1 probes the paper's scheme (the receiver gets z): :func:`reveal_variants`,
:func:`identity_network`, :func:`information_budget`. Part 3's trade-off (blind mode against LSB over
payloads) is :func:`helpers.evaluation.detectability.detectability`.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.data.photos import batch_to_uint8
from helpers.coding.mapping import map_bits, unmap_bits
from helpers.network.model import StegoINN, quantize_8bit


def _bits(shape, bpp: int, g: torch.Generator) -> torch.Tensor:
    bits = torch.randint(0, 2, shape, generator=g, dtype=torch.uint8)
    if bpp == 1:
        bits[:, 1:] = 0
    return bits


@torch.inference_mode()
def reveal_variants(model: StegoINN, covers: torch.Tensor, bpp: int = 3, seed: int = 0) -> dict:
    """Hide random bits in each cover ``(N, 3, H, W)`` (N >= 2, one size), round the stego images to
    8 bits, and reveal image i's message with: the right key (z_i); the key of another image
    (z_{i+1}, its turn flag too); z = 0; a Gaussian z; the right key applied to the **untouched
    cover** i; the right key applied to **another photo** (cover i+1). Returns the recovery
    accuracy (fraction of image i's bits) of each, averaged over images, and the share of 8-bit
    values the stego image changed."""
    from helpers.plumbing.inference import input_layout

    fmt = input_layout(model)  # channels-last for the shipped network: about 2x faster on a CPU
    g = torch.Generator().manual_seed(seed)
    c = 1 if bpp == 1 else 3
    bits = _bits(covers.shape, bpp, g)
    secret_map, turn = map_bits(bits, batch=True)
    stego, z = model(fmt(covers), fmt(secret_map))
    stego8 = quantize_8bit(stego)
    other = lambda t: t.roll(1, 0)  # noqa: E731  (image i gets image i+1's)

    def ra(image, zz, tt):
        rev = unmap_bits(model.inverse(fmt(image), fmt(zz))[1], tt)
        return float((rev[:, :c] == bits[:, :c]).float().mean())

    return {
        "right key": ra(stego8, z, turn),
        "key of another image": ra(stego8, other(z), other(turn)),
        "z = 0": ra(stego8, torch.zeros_like(z), turn),
        "Gaussian z": ra(stego8, torch.randn(z.shape, generator=g), turn),
        "right key, untouched cover": ra(covers, z, turn),
        "right key, another photo": ra(other(covers), z, turn),
        "values changed": float((torch.round(stego8 * 255) != torch.round(covers * 255)).float().mean()),
    }


@torch.inference_mode()
def identity_network(covers: torch.Tensor, seed: int = 0, value_bits: int = 16) -> dict:
    """The paper's network with HiNet's zero-initialised last layers (the identity, untrained):
    its loss (eq. 7, with 8-bit rounding) and recovery at 3 bpp, and how many bits per value it
    returns exactly when the secret map holds ``value_bits``-bit numbers instead of bits (z carries
    everything, so "capacity" is limited only by float32)."""
    from helpers.training.train import paper_loss, round_straight_through

    g = torch.Generator().manual_seed(seed)
    net = StegoINN(last_init="zero").eval()
    bits = _bits(covers.shape, 3, g)
    secret_map, turn = map_bits(bits, batch=True)
    stego, z = net(covers, secret_map)
    secret_rev = net.inverse(round_straight_through(stego), z)[1]
    loss, enc, dec = paper_loss(covers, stego, secret_map, secret_rev, 1.0, 10.0)
    levels = 2 ** value_bits
    numbers = torch.randint(0, levels, covers.shape, generator=g)
    stego2, z2 = net(covers, numbers.float() / levels)
    back = torch.round(net.inverse(quantize_8bit(stego2), z2)[1] * levels).long()
    return {"loss": float(loss), "loss_enc": float(enc), "loss_dec": float(dec),
            "ra_3bpp": float((unmap_bits(secret_rev, turn) == bits).float().mean()),
            "stego_equals_cover": bool(torch.equal(quantize_8bit(stego), covers)),
            "bits_per_pixel_exact": 3 * value_bits if torch.equal(back, numbers) else 0}


@torch.inference_mode()
def information_budget(model: StegoINN, cover: torch.Tensor, bpp: int = 3, seed: int = 0) -> dict:
    """For one cover ``(3, H, W)``: message bits, bits of the 8-bit image that changed (the XOR of
    cover and stego bytes), and the size of the key's z (float32; and zlib-compressed, which is
    closer to what it really carries)."""
    import zlib

    from helpers.plumbing.inference import input_layout

    fmt = input_layout(model)
    g = torch.Generator().manual_seed(seed)
    bits = _bits(cover[None].shape, bpp, g)
    secret_map, _ = map_bits(bits, batch=True)
    stego, z = model(fmt(cover[None]), fmt(secret_map))
    a, b = batch_to_uint8(cover[None])[0], batch_to_uint8(stego)[0]
    z32 = z.contiguous().numpy().astype(np.float32)
    return {"message_bits": int((1 if bpp == 1 else 3) * cover.shape[1] * cover.shape[2]),
            "image_bits_changed": int(np.unpackbits(a ^ b).sum()),
            "values_changed": int((a != b).sum()),
            "key_bits": int(z32.size * 32),
            "key_bits_compressed": 8 * len(zlib.compress(z32.tobytes(), 9))}
