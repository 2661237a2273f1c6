"""Do erasures help? For each crop of the corpus's held-out sources (the crops of
``benchmarks/blind_heldout.py``), the least Reed-Solomon parity (of ``helpers.methods.blind_mode.NSYM_TRIES``) at
which a message filling every cell decodes exactly, with errors-only decoding and with the
receiver's confidences as erasures (``helpers.coding.blind_code.decode(..., confidence=...)``; notebook 09,
section 2.4). Prints one line per crop and a count of the crops where the two differ.

    python -m helpers.data.corpus && python benchmarks/blind_erasures.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from blind_heldout import crops_of  # noqa: E402

from helpers.coding import blind_code  # noqa: E402
from helpers.methods.blind_mode import NSYM_TRIES, blind_capacity, embed_and_read  # noqa: E402
from helpers.data.corpus import corpus_dir, read_manifest, split_corpus  # noqa: E402
from helpers.data.photos import pil_to_tensor  # noqa: E402
from helpers.plumbing.inference import load_network  # noqa: E402


def least_parity(model, cover, password="pw") -> tuple[dict, float]:
    """``{"errors only": nsym, "erasures": nsym}`` (None: no parity was enough) and the raw BER."""
    net, cfg = model
    found: dict = {"errors only": None, "erasures": None}
    ber = float("nan")
    for nsym in NSYM_TRIES:
        n = blind_capacity(cover.shape[-2], cover.shape[-1], cfg.bpp, nsym)
        msg = np.random.default_rng(nsym).integers(0, 256, n, dtype=np.uint8).tobytes()
        raw = (1 if cfg.bpp == 1 else 3) * cover.shape[-2] * cover.shape[-1]  # every cell's bits
        coded = blind_code.encode(msg, raw, password, nsym, filler_seed=0)
        _, values, _ = embed_and_read(net, cover, cfg.bpp, coded)
        bits = (values >= 0.25).astype(np.uint8)
        if nsym == NSYM_TRIES[0]:
            ber = float(np.mean(bits != coded))
        for way, confidence in (("errors only", None), ("erasures", np.abs(values - 0.25))):
            if found[way] is None:
                try:
                    if blind_code.decode(bits, password, confidence)[0] == msg:
                        found[way] = nsym
                except blind_code.BlindRevealError:
                    pass
        if all(v is not None for v in found.values()):
            break
    return found, ber


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="blind-mode checkpoint (default: the shipped one)")
    a = p.parse_args(argv)
    model = load_network(a.checkpoint, "blind")
    sources = split_corpus(read_manifest())[1]
    folder = corpus_dir()
    differ = total = 0
    print(f"{'source':<22}{'size':>9}{'raw BER':>10}{'errors only':>13}{'erasures':>10}")
    for k, src in enumerate(sources):  # seeds as blind_heldout.py: the same crops
        for crop in crops_of(Image.open(folder / src["file"]).convert("RGB"), seed=k):
            found, ber = least_parity(model, pil_to_tensor(crop))
            total += 1
            differ += found["errors only"] != found["erasures"]
            print(f"{src['source']:<22}{crop.width:>4} x {crop.height:<4}{ber:>9.1e}{str(found['errors only']):>13}"
                  f"{str(found['erasures']):>10}", flush=True)
    print(f"\n{total} crops of {len(sources)} held-out sources: the least parity differs on {differ}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
