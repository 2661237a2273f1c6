"""One evaluation harness for every method: the paper's Tables 1, 2 and 4 (notebook 07).

For each method and cover image: random message bits at the method's capacity, the 8-bit stego
image **saved as PNG and read back**, then extraction; per image PSNR and SSIM (cover vs 8-bit
stego), capacity C in bpp, and RA (equal bits / all bits). Results go to a CSV (one row per
method and image) and to Markdown tables laid out like the paper's, with the paper's figures in
a column beside ours.

Methods (:data:`METHODS`) are the registry's (:data:`helpers.methods.base.REGISTRY`; each class says
what it does): ``lsb``, ``rehman``, ``hinet`` (z not handed over: drawn from a seeded Gaussian, as
the paper did), ``inn`` (the paper's at 3 bpp, z handed over as its key file does), ``inn-1bpp``,
``blind`` (raw bits, before the code that makes a message exact) and the ablation ``inn-nomap`` /
``inn-1bpp-nomap``: bits {0, 1} read at 0.5, with the network retrained without the mapping module
(``nomap_checkpoint=``) or, when none is given, the mapping-trained one, and the table says so.
The harness draws bits, calls ``embed``, saves the PNG and calls ``extract``; it never looks at a
method's name except to hand it its network (:data:`NETWORK`).
"""

from __future__ import annotations

import copy
import io
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from helpers.plumbing.files import csv_bytes, write_all_or_none
from helpers.plumbing.inference import load_network, shipped
from helpers.data.photos import DATA_DIR, ImageFolder, batch_to_uint8, uint8_to_batch
from helpers.methods.base import Method, get_method
from helpers.evaluation.metrics import psnr, ssim

# The paper's reported figures (Liu, Tang, Zheng 2022, Tables 1-4): (COCO-2017, Pascal VOC 2012).
PAPER = {
    "psnr": {"lsb": (55.8896, 55.9129), "rehman": (41.4314, 38.7726), "hinet": (43.7672, 42.7289),
             "inn": (67.3010, 69.2142)},
    "ssim": {"lsb": (0.9993, 0.9994), "rehman": (0.9982, 0.9976), "hinet": (0.9923, 0.9948), "inn": (0.9999, 0.9999)},
    "bpp": {"lsb": 1, "rehman": 1, "hinet": 3, "inn": 3},
    "ra": {"lsb": (100.0, 100.0), "rehman": (99.83, 99.84), "hinet": (78.59, 78.33), "inn": (100.0, 100.0)},
    "da_srnet": {"lsb": (97.15, 96.79), "rehman": (98.67, 99.75), "hinet": (99.84, 99.77), "inn": (51.62, 51.81)},
    "table4": {"inn-1bpp": (100.0, 100.0), "inn": (100.0, 99.48)},  # (w/ mapping, w/o mapping), RA %
}
NAMES = {"lsb": "LSB-1bit", "rehman": "Rehman et al. 2018", "hinet": "HiNet", "inn": "Ours (paper's INN)",
         "inn-1bpp": "Ours, 1 bpp", "inn-nomap": "Ours, 3 bpp, w/o mapping", "inn-1bpp-nomap": "Ours, 1 bpp, w/o mapping",
         "blind": "Blind mode (raw bits, no code)"}
METHODS = ("lsb", "rehman", "hinet", "inn", "inn-1bpp", "inn-nomap", "inn-1bpp-nomap", "blind")
#: The network each method runs (the Evaluator's models; LSB and blind mode take none from it).
NETWORK = {"rehman": "rehman", "hinet": "hinet", "inn": "inn", "inn-1bpp": "inn", "inn-nomap": "nomap",
           "inn-1bpp-nomap": "nomap"}
#: Networks trained for the comparison and shipped in ``data/checkpoints/`` (how: its README.md).
#: The command line uses them by default; the Python API takes them explicitly.
SHIPPED = {"rehman": shipped("rehman"), "hinet": shipped("hinet"), "nomap": DATA_DIR / "checkpoints" / "paper_nomap.pt"}


def _png_round_trip(stego_uint8: np.ndarray) -> np.ndarray:
    """Save as PNG and read back (what a receiver gets)."""
    buf = io.BytesIO()
    Image.fromarray(stego_uint8, mode="RGB").save(buf, format="PNG")
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def _require(model, kind: str):
    if model is None:
        raise ValueError(f"method '{kind}' needs a trained model: helpers.methods.baselines.train_{kind} (notebook 07), "
                         f"--{kind}-checkpoint, or the shipped {SHIPPED[kind]}")
    return model


@dataclass
class Evaluator:
    """Builds each method once (:func:`helpers.methods.base.get_method`) with the networks it needs."""

    checkpoint: str | None = None
    nomap_checkpoint: str | None = None
    rehman: object = None  # a trained helpers.methods.baselines.Rehman, or the path of one
    hinet: object = None   # a trained helpers.methods.baselines.HiNetStyle, or the path of one
    device: object = None  # where the networks run (default: the CPU)

    def __post_init__(self):
        self._models, self._methods = {}, {}
        self.device = torch.device(self.device or "cpu")
        for name in ("rehman", "hinet"):
            model = getattr(self, name)
            if isinstance(model, (str, Path)):
                model = load_network(model, name, fresh=True).model.to(self.device)  # our own copy: move it
            elif model is not None and self.device.type != "cpu":
                model = copy.deepcopy(model).to(self.device)  # the caller's: leave it where it is
            setattr(self, name, model)

    def model(self, which: str = "inn"):
        """The network ``which`` (:data:`NETWORK`): the paper's, the one retrained without mapping
        (the paper's when none was given), or a baseline (an error when none was given)."""
        if which in ("rehman", "hinet"):
            return _require(getattr(self, which), which)
        which = "nomap" if which == "nomap" and self.nomap_checkpoint else "inn"
        if which not in self._models:
            model = load_network(self.nomap_checkpoint if which == "nomap" else self.checkpoint).model
            # the shipped network is cached and shared: move a copy
            self._models[which] = model if self.device.type == "cpu" else copy.deepcopy(model).to(self.device)
        return self._models[which]

    def method(self, name: str) -> Method:
        """The method ``name`` (:func:`helpers.methods.base.get_method`) with this evaluator's network."""
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; available: {', '.join(METHODS)}")
        if name not in self._methods:
            self._methods[name] = get_method(name, **({"model": self.model(NETWORK[name])} if name in NETWORK else {}))
        return self._methods[name]

    def run(self, method: str, cover: torch.Tensor, seed: int) -> dict:
        """One method on one cover ``(3, H, W)``: random bits at its capacity, the 8-bit stego image
        through a PNG round trip, extraction; the metrics."""
        m = self.method(method)
        g = torch.Generator().manual_seed(seed)
        cover_u8 = batch_to_uint8(cover[None])
        bits = torch.randint(0, 2, (1, m.raw_bits(*cover.shape[-2:])), generator=g, dtype=torch.uint8).numpy()
        stego_u8, side = m.embed(cover_u8, bits)
        stego_u8 = _png_round_trip(stego_u8[0])
        bits_rev = m.extract(stego_u8[None], side, generator=g)
        stego_t, cover_t = uint8_to_batch(stego_u8[None])[0], uint8_to_batch(cover_u8)[0]
        return {"psnr": psnr(cover_t, stego_t), "ssim": ssim(cover_t, stego_t), "bpp": m.bpp,
                "ra": float(np.mean(bits == bits_rev)), "stego": stego_u8}


def evaluate_methods(images, methods=("lsb", "inn"), checkpoint=None, nomap_checkpoint=None, seed: int = 2022,
                     progress: bool = True, keep_stego: int = 0, rehman=None, hinet=None, device=None) -> list[dict]:
    """Run ``methods`` over ``images`` (a dataset of ``(3, H, W)`` covers, e.g.
    :class:`helpers.data.photos.ImageFolder` with the 128 x 128 centre crop). Returns one row per method
    and image: ``method, image, psnr, ssim, bpp, ra`` (plus ``stego`` for the first
    ``keep_stego`` images, for figures)."""
    from tqdm.auto import tqdm

    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; available: {', '.join(METHODS)}")
    for kind, model in (("rehman", rehman), ("hinet", hinet)):
        if kind in methods:
            _require(model, kind)
    ev = Evaluator(checkpoint, nomap_checkpoint, rehman, hinet, device)
    rows = []
    names = [Path(p).name for p in getattr(images, "paths", range(len(images)))]
    with tqdm(total=len(images) * len(methods), desc="evaluate", disable=not progress) as bar:
        for i in range(len(images)):
            cover = images[i]
            for m in methods:
                r = ev.run(m, cover, seed + i)
                if i >= keep_stego:
                    r.pop("stego")
                rows.append({"method": m, "image": str(names[i]), **r})
                bar.update(1)
    return rows


def _mean_std(values) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < len(values):
        return "inf (unchanged images)"
    sd = statistics.pstdev(finite) if len(finite) > 1 else 0.0
    return f"{statistics.mean(finite):.4f} ± {sd:.4f}"


def summarise(rows) -> dict:
    """Per method: n, mean ± std of PSNR, SSIM, RA (in %), and the bpp."""
    out = {}
    for m in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == m]
        out[m] = {"n": len(rs), "bpp": rs[0]["bpp"], "psnr": [r["psnr"] for r in rs], "ssim": [r["ssim"] for r in rs],
                  "ra": [100 * r["ra"] for r in rs]}
    return out


def markdown_tables(rows, dataset: str = "coco", nomap_retrained: bool = False) -> str:
    """The paper's Tables 1, 2 and 4 with our figures (mean ± std over n images) beside the
    paper's for ``dataset`` (``"coco"`` or ``"voc"``)."""
    col = 0 if dataset == "coco" else 1
    s = summarise(rows)

    def ours(m, key):
        return _mean_std(s[m][key]) if m in s else "not run"

    paper = {"coco": "COCO-2017", "voc": "Pascal VOC 2012"}.get(dataset, dataset)
    lines = [f"### Table 1: PSNR and SSIM (cover vs 8-bit stego): ours on the images given, the paper's on {paper}", "",
             "| method | n | PSNR (dB), ours | PSNR, paper | SSIM, ours | SSIM, paper |", "|---|---|---|---|---|---|"]
    for m in ("lsb", "rehman", "hinet", "inn"):
        lines.append(f"| {NAMES[m]} | {s[m]['n'] if m in s else '-'} | {ours(m, 'psnr')} | {PAPER['psnr'][m][col]} | "
                     f"{ours(m, 'ssim')} | {PAPER['ssim'][m][col]} |")
    lines += ["", "### Table 2: capacity C (bpp) and recovery accuracy RA (%) after saving the stego image as PNG", "",
              "| method | C (bpp) | RA (%), ours | RA (%), paper |", "|---|---|---|---|"]
    for m in ("lsb", "rehman", "hinet", "inn"):
        lines.append(f"| {NAMES[m]} | {PAPER['bpp'][m]} | {ours(m, 'ra')} | {PAPER['ra'][m][col]} |")
    lines += ["", "### Table 4: the mapping module, RA (%)", "",
              "| capacity | w/ mapping, ours | w/ mapping, paper | w/o mapping, ours | w/o mapping, paper |",
              "|---|---|---|---|---|"]
    lines.append(f"| 1 bpp | {ours('inn-1bpp', 'ra')} | {PAPER['table4']['inn-1bpp'][0]} | {ours('inn-1bpp-nomap', 'ra')} | "
                 f"{PAPER['table4']['inn-1bpp'][1]} |")
    lines.append(f"| 3 bpp | {ours('inn', 'ra')} | {PAPER['table4']['inn'][0]} | {ours('inn-nomap', 'ra')} | "
                 f"{PAPER['table4']['inn'][1]} |")
    if ("inn-nomap" in s or "inn-1bpp-nomap" in s) and not nomap_retrained:
        lines += ["", "*w/o mapping, ours*: the network trained **with** the mapping module, evaluated without it; the "
                      "paper retrains without it (give `--nomap-checkpoint`)."]
    return "\n".join(lines) + "\n"


def write_results(rows, out_dir, dataset: str = "coco", nomap_retrained: bool = False) -> dict:
    """Write ``results.csv`` (one row per method and image) and ``tables.md`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "results.csv", "tables": out / "tables.md"}
    write_all_or_none([(paths["csv"], csv_bytes(rows, ["method", "image", "psnr", "ssim", "bpp", "ra"])),
                       (paths["tables"], markdown_tables(rows, dataset, nomap_retrained).encode())])
    return paths


def evaluate_folder(data, methods, out, checkpoint=None, nomap_checkpoint=None, size: int = 128, limit: int = 0,
                    dataset: str = "coco", progress: bool = True, rehman=None, hinet=None, device=None) -> dict:
    """The command line's work: the paper's centre crops of every image in ``data`` (networks on
    ``device``: the GPU when there is one)."""
    images = ImageFolder(data, size=size, train=False)
    if limit:
        images.paths = images.paths[:limit]
    rows = evaluate_methods(images, methods, checkpoint, nomap_checkpoint, progress=progress, rehman=rehman, hinet=hinet,
                            device=device)
    return write_results(rows, out, dataset, nomap_retrained=nomap_checkpoint is not None)


def make_stegos(method: str, covers: np.ndarray, seed: int = 0, checkpoint=None, batch: int = 2) -> np.ndarray:
    """8-bit stego images ``(N, H, W, 3)`` uint8 of ``covers`` (same shape), each with fresh
    random bits at the method's full capacity (any name of :data:`helpers.methods.base.REGISTRY`): what
    the steganalysis of notebook 08 looks at. The networks are the shipped ones unless
    ``checkpoint`` names another. Only the embedding runs, in batches of ``batch`` (2 is the fastest
    on a 2-core CPU: the paper's network made 12 stego images in 7.4 s at batch 2, 10.6 s at batch 8)."""
    m = get_method(method, **({} if checkpoint is None else {"checkpoint": checkpoint}))
    covers = np.asarray(covers)
    rng = np.random.default_rng(seed)
    h, w = covers.shape[1:3]
    stegos = []
    for i in range(0, len(covers), batch):
        chunk = covers[i:i + batch]
        bits = rng.integers(0, 2, (len(chunk), m.raw_bits(h, w)), dtype=np.uint8)  # fresh bits for every image
        stegos.append(m.embed(chunk, bits)[0])
    return np.concatenate(stegos)
