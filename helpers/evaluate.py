"""One evaluation harness for every method: the paper's Tables 1, 2 and 4 (notebook 07).

For each method and cover image: random message bits at the method's capacity, the 8-bit stego
image **saved as PNG and read back**, then extraction; per image PSNR and SSIM (cover vs 8-bit
stego), capacity C in bpp, and RA (equal bits / all bits). Results go to a CSV (one row per
method and image) and to Markdown tables laid out like the paper's, with the paper's figures in
a column beside ours.

Methods (:data:`METHODS`):

* ``lsb`` - LSB-1bit replacement at 1 bpp (:mod:`helpers.baselines`).
* ``inn`` - the paper's method at 3 bpp with the mapping module, the shipped checkpoint (or
  ``checkpoint=``); z is handed to the extraction, as the paper's key file does.
* ``inn-1bpp`` - the same network at 1 bpp (Table 4's first row).
* ``inn-nomap`` - 3 bpp **without** the mapping module at extraction and embedding (bits {0, 1},
  threshold 0.5). The paper's ablation retrains the network without the mapping module; with a
  checkpoint trained that way (``nomap_checkpoint=``) this is that row, otherwise it evaluates the
  mapping-trained network without mapping and the table says so.
* ``rehman`` - Rehman et al. 2018's encoder/decoder hiding a bit plane at 1 bpp
  (:class:`helpers.baselines.Rehman`; a trained model or checkpoint must be given), decoded bits
  rounded at 0.5 as the paper did.
* ``hinet`` - the HiNet-style invertible network at 3 bpp (:class:`helpers.baselines.HiNetStyle`;
  a trained model or checkpoint must be given): z is **not** handed over, extraction draws it
  from a seeded Gaussian, and the revealed values are rounded to bits, as the paper did.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .baselines import load_baseline, lsb_hide, lsb_reveal, rehman_hide, rehman_reveal
from .data import DATA_DIR, ImageFolder, batch_to_uint8, uint8_to_batch
from .inference import forward_tiled, input_layout, inverse_tiled
from .mapping import map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from .metrics import psnr, ssim
from .model import quantize_8bit

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
         "inn-1bpp": "Ours, 1 bpp", "inn-nomap": "Ours, 3 bpp, w/o mapping", "inn-1bpp-nomap": "Ours, 1 bpp, w/o mapping"}
METHODS = ("lsb", "rehman", "hinet", "inn", "inn-1bpp", "inn-nomap", "inn-1bpp-nomap")
#: Networks trained for the comparison and shipped in ``data/checkpoints/`` (how: its README.md).
#: The command line uses them by default; the Python API takes them explicitly.
SHIPPED = {"rehman": DATA_DIR / "checkpoints" / "rehman.pt", "hinet": DATA_DIR / "checkpoints" / "hinet.pt",
           "nomap": DATA_DIR / "checkpoints" / "paper_nomap.pt"}
PLANNED = ()


def _png_round_trip(stego_uint8: np.ndarray) -> np.ndarray:
    """Save as PNG and read back (what a receiver gets)."""
    buf = io.BytesIO()
    Image.fromarray(stego_uint8, mode="RGB").save(buf, format="PNG")
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    """One image ``(3, H, W)`` -> uint8 ``(H, W, 3)`` (:func:`helpers.data.batch_to_uint8`)."""
    return batch_to_uint8(t[None])[0]


def _to_tensor(a: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` -> one image ``(3, H, W)`` (:func:`helpers.data.uint8_to_batch`)."""
    return uint8_to_batch(a[None])[0]


def _require(model, kind: str) -> None:
    if model is None:
        raise ValueError(f"method '{kind}' needs a trained model: helpers.baselines.train_{kind} (notebook 07), "
                         f"--{kind}-checkpoint, or the shipped {SHIPPED[kind]}")


@dataclass
class Evaluator:
    """Holds the networks the methods need (loaded once)."""

    checkpoint: str | None = None
    nomap_checkpoint: str | None = None
    rehman: object = None  # a trained helpers.baselines.Rehman, or the path of one
    hinet: object = None   # a trained helpers.baselines.HiNetStyle, or the path of one
    device: object = None  # where the networks run (default: the CPU)

    def __post_init__(self):
        self._models = {}
        self.device = torch.device(self.device or "cpu")
        if isinstance(self.rehman, (str, Path)):
            self.rehman = load_baseline(self.rehman, "rehman")
        if isinstance(self.hinet, (str, Path)):
            self.hinet = load_baseline(self.hinet, "hinet")
        for name in ("rehman", "hinet"):
            if getattr(self, name) is not None and self.device.type != "cpu":
                setattr(self, name, copy.deepcopy(getattr(self, name)).to(self.device))

    def model(self, which: str = "inn"):
        from .stego import load_model

        if which not in self._models:
            path = self.nomap_checkpoint if which == "nomap" else self.checkpoint
            model = load_model(path)
            # the shipped network is cached and shared: move a copy
            self._models[which] = model if self.device.type == "cpu" else copy.deepcopy(model).to(self.device)
        return self._models[which]

    def run(self, method: str, cover: torch.Tensor, seed: int) -> dict:
        """One method on one cover ``(3, H, W)``: the metrics of its 8-bit, PNG-reloaded stego."""
        g = torch.Generator().manual_seed(seed)
        _, h, w = cover.shape
        cover_u8 = _to_uint8(cover)
        if method == "lsb":
            bits = torch.randint(0, 2, (h * w,), generator=g).numpy().astype(np.uint8)
            stego_u8 = _png_round_trip(lsb_hide(cover_u8, bits))
            bits_rev = lsb_reveal(stego_u8, bits.size)
            bpp = 1
        elif method == "rehman":
            _require(self.rehman, "rehman")
            bits_t = torch.randint(0, 2, (h, w), generator=g, dtype=torch.uint8)
            stego_u8 = _png_round_trip(_to_uint8(rehman_hide(self.rehman, _to_tensor(cover_u8), bits_t)))
            bits, bits_rev = bits_t.numpy().ravel(), rehman_reveal(self.rehman, _to_tensor(stego_u8)).numpy().ravel()
            bpp = 1
        elif method == "hinet":
            _require(self.hinet, "hinet")
            bits_t = torch.randint(0, 2, (1, 3, h, w), generator=g).float()
            device = next(self.hinet.parameters()).device
            with torch.no_grad():
                stego, _ = self.hinet(_to_tensor(cover_u8)[None].to(device), bits_t.to(device))
                stego_u8 = _png_round_trip(_to_uint8(stego[0].cpu()))
                revealed = self.hinet.reveal(_to_tensor(stego_u8)[None].to(device), generator=g).cpu()  # z ~ N(0, 1)
            bits, bits_rev = bits_t.numpy().ravel(), (revealed.clamp(0, 1) >= 0.5).numpy().ravel()
            bpp = 3
        elif method in ("inn", "inn-1bpp", "inn-nomap", "inn-1bpp-nomap"):
            bpp = 1 if "1bpp" in method else 3
            mapping = "nomap" not in method
            model = self.model("nomap" if not mapping and self.nomap_checkpoint else "inn")
            device = next(model.parameters()).device
            plane = torch.randint(0, 2, (3, h, w), generator=g, dtype=torch.uint8)
            if bpp == 1:
                plane[1:] = 0
            secret_map, turn = map_bits(plane) if mapping else (map_bits_plain(plane), None)
            stego, z = forward_tiled(model, _to_tensor(cover_u8).to(device), secret_map.to(device), 256)
            stego_u8 = _png_round_trip(_to_uint8(quantize_8bit(stego).cpu()))
            secret_rev = inverse_tiled(model, _to_tensor(stego_u8).to(device), z, 256).cpu()
            rev = unmap_bits(secret_rev, turn) if mapping else unmap_bits_plain(secret_rev)
            bits, bits_rev = plane[: 1 if bpp == 1 else 3].numpy().ravel(), rev[: 1 if bpp == 1 else 3].numpy().ravel()
        elif method in PLANNED:
            raise NotImplementedError(f"method {method!r} is not implemented yet; available: {', '.join(METHODS)}")
        else:
            raise ValueError(f"unknown method {method!r}; available: {', '.join(METHODS)}")
        stego_t = _to_tensor(stego_u8)
        cover_t = _to_tensor(cover_u8)
        return {"psnr": psnr(cover_t, stego_t), "ssim": ssim(cover_t, stego_t), "bpp": bpp,
                "ra": float(np.mean(bits == bits_rev)), "stego": stego_u8}


def evaluate_methods(images, methods=("lsb", "inn"), checkpoint=None, nomap_checkpoint=None, seed: int = 2022,
                     progress: bool = True, keep_stego: int = 0, rehman=None, hinet=None, device=None) -> list[dict]:
    """Run ``methods`` over ``images`` (a dataset of ``(3, H, W)`` covers, e.g.
    :class:`helpers.data.ImageFolder` with the 128 x 128 centre crop). Returns one row per method
    and image: ``method, image, psnr, ssim, bpp, ra`` (plus ``stego`` for the first
    ``keep_stego`` images, for figures)."""
    from tqdm.auto import tqdm

    for m in methods:
        if m not in METHODS:
            raise ValueError(f"method {m!r} is {'not implemented yet' if m in PLANNED else 'unknown'}; "
                             f"available: {', '.join(METHODS)}")
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
    fields = ["method", "image", "psnr", "ssim", "bpp", "ra"]
    tmp = out / ".results.csv.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(out / "results.csv")
    (out / "tables.md").write_text(markdown_tables(rows, dataset, nomap_retrained))
    return {"csv": out / "results.csv", "tables": out / "tables.md"}


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


@torch.no_grad()
def make_stegos(method: str, covers: np.ndarray, seed: int = 0, checkpoint=None, batch: int = 2) -> np.ndarray:
    """8-bit stego images ``(N, H, W, 3)`` uint8 of ``covers`` (same shape), each with fresh
    random bits at the method's full capacity: what the steganalysis of notebook 08 looks at.
    ``lsb``: 1 bpp; ``inn``: 3 bpp with the mapping module; ``rehman`` (1 bpp) and ``hinet``
    (3 bpp): the shipped baselines (:data:`SHIPPED`) unless ``checkpoint`` names another. Networks
    run their forward pass only, in batches of ``batch`` (2 is the fastest on a 2-core CPU: the
    paper's network made 12 stego images in 7.4 s at batch 2, 10.6 s at batch 8)."""
    covers = np.asarray(covers)
    rng = np.random.default_rng(seed)
    n, h, w, _ = covers.shape
    if method == "lsb":
        return np.stack([lsb_hide(c, rng.integers(0, 2, h * w), seed=seed + i) for i, c in enumerate(covers)])
    if method not in ("inn", "rehman", "hinet"):
        raise ValueError(f"make_stegos knows 'lsb', 'inn', 'rehman' and 'hinet', got {method!r}")
    from .stego import load_model

    if method == "inn":
        model = load_model(checkpoint)
        fmt = input_layout(model)
    else:
        model, fmt = load_baseline(checkpoint or SHIPPED[method], method), (lambda x: x)
    out = []
    for i in range(0, n, batch):
        x = uint8_to_batch(covers[i:i + batch])
        bits = torch.from_numpy(rng.integers(0, 2, x.shape).astype(np.uint8))
        if method == "inn":
            secret_map, _ = map_bits(bits, batch=True)
            stego, _ = model(fmt(x), fmt(secret_map))
        elif method == "rehman":
            stego = model.encoder(x, bits[:, :1].float())
        else:
            stego, _ = model(x, bits.float())
        out.append(batch_to_uint8(stego))
    return np.concatenate(out)
