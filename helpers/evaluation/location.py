"""Where does the message live? The measurements of notebook 09, as plain functions.

Part 1 probes the paper's scheme (the receiver gets z): :func:`reveal_variants`,
:func:`identity_network`, :func:`information_budget`. Part 3 measures blind mode against LSB over
payloads: :func:`tradeoff`.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.data.photos import batch_to_uint8, uint8_to_batch
from helpers.coding.payload import capacity_bits
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


def tradeoff(covers_u8: np.ndarray, payloads, train_mask: np.ndarray, blind_model=None, detector_steps: int = 300,
             seed: int = 0, device=None, progress: bool = False) -> list[dict]:
    """Blind mode against LSB replacement at each net payload (bits per pixel of message): for
    every payload and method, mean PSNR and SSIM (cover vs 8-bit stego), the raw bit error rate
    before error correction (blind) and the share of messages recovered byte-exact from the PNG,
    the fused statistical detector's AUC (:func:`helpers.evaluation.statistical.estimate`) and a learned
    detector's accuracy (:func:`helpers.evaluation.learned.train_detector`, XuNet-style) on held-out covers
    (``train_mask`` marks the covers it may train on).

    Blind mode hides a random message of ``payload x H x W / 8`` bytes exactly as
    :func:`helpers.methods.blind_mode.blind_hide` does: in the fewest 32 x 32 cells that hold it (``footprint``:
    the share of the image they cover), with more parity only where its self-check (the receiver's
    decode of the 8-bit image) fails; ``exact`` counts the messages that check returns exactly."""
    from helpers.coding import blind_code
    from helpers.methods.baselines import lsb_hide
    from helpers.methods.blind_mode import hide_tensor
    from helpers.plumbing.inference import load_network
    from helpers.evaluation.learned import detection_accuracy, train_detector
    from helpers.evaluation.metrics import psnr_per_image, ssim_per_image
    from helpers.evaluation.statistical import auc, estimate

    net, cfg = blind_model if blind_model is not None else load_network(kind="blind")
    covers_u8, train_mask = np.asarray(covers_u8), np.asarray(train_mask, dtype=bool)
    if train_mask.all() or not train_mask.any():
        raise ValueError("train_mask must mark some covers for the detector to train on and leave some held out")
    n, h, w, _ = covers_u8.shape
    covers = uint8_to_batch(covers_u8)
    mask = torch.from_numpy(train_mask)
    net_device = next(net.parameters()).device
    rng = np.random.default_rng(seed)
    raw_bits = capacity_bits(h, w, cfg.bpp)
    cover_scores = [estimate(c)["fused"] for c in covers_u8]
    rows = []
    for p in payloads:
        n_bytes = int(p * h * w / 8)
        for method in ("lsb", "blind"):
            row = {"payload_bpp": p, "method": method, "message_bytes": n_bytes}
            if method == "lsb" and 8 * n_bytes > h * w:
                row.update(error=f"more than LSB-1bit's capacity ({h * w // 8} bytes)")
                rows.append(row)
                continue
            if method == "lsb":
                stegos = np.stack([lsb_hide(c, rng.integers(0, 2, 8 * n_bytes), seed=seed + i)
                                   for i, c in enumerate(covers_u8)])
                row.update(raw_ber=0.0, exact=1.0)
            else:
                if n_bytes > blind_code.net_capacity(raw_bits // 8):
                    row.update(error=f"more than the net capacity ({blind_code.net_capacity(raw_bits // 8)} bytes)")
                    rows.append(row)
                    continue
                stegos, infos, exact = [], [], 0
                for i in range(n):  # blind_hide's own steps: fewest cells, self-check, more parity if needed
                    m = rng.integers(0, 256, n_bytes, dtype=np.uint8).tobytes()
                    st, info, ok = hide_tensor(net, cfg, covers[i].to(net_device), m, None, None, seed + i)
                    stegos.append(st.cpu())
                    infos.append(info)
                    exact += ok
                stegos = batch_to_uint8(torch.stack(stegos))
                row.update(raw_ber=sum(f["raw_errors"] for f in infos) / sum(f["raw_bits"] for f in infos),
                           exact=exact / n, nsym=max(f["nsym"] for f in infos),
                           footprint=float(np.mean([f["footprint"] for f in infos])))
            st = uint8_to_batch(stegos)
            row["psnr"] = float(psnr_per_image(covers, st).mean())
            row["ssim"] = float(ssim_per_image(covers, st).mean())
            row["auc_fused"] = auc(cover_scores, [estimate(s)["fused"] for s in stegos])
            det = train_detector(covers[mask], st[mask], steps=detector_steps, arch="xunet", device=device,
                                 progress=progress, crop=min(64, h, w), seed=seed)
            row["detector_accuracy"] = detection_accuracy(det, covers[~mask], st[~mask])
            rows.append(row)
    return rows
