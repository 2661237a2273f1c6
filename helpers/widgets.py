"""Lecture dashboards (notebook 10; each also sits in the notebook whose lesson it fits).

Every dashboard is a thin ipywidgets layer over a plain function of this module that the tests
call directly: :func:`coupling_demo` (notebook 01), :func:`mapping_demo` (03), :func:`stego_demo`
(06 and 09), :func:`steganalysis_demo` (08). The ``*_dashboard`` functions build the widgets with
``interactive_output`` (slow callbacks wait for the slider to be released:
``continuous_update=False``), draw with matplotlib's inline backend (no ipympl, so they work on
Colab) and show any callback error in an ``Output`` instead of losing it. Each returns a
:class:`Dashboard`: the widget to display, its controls by name, and the last result.

Errors the audience is meant to see (:data:`AUDIENCE_ERRORS`: a message longer than the cover
carries) are shown and the dashboard stays alive. Any other error is a bug: on screen it is shown
too, and under pytest (nbmake runs the notebooks from pytest, so their kernels see
``PYTEST_CURRENT_TEST``) it is raised, so that a broken dashboard fails its notebook cell and the
headless tests.
"""

from __future__ import annotations

import functools
import io
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from helpers.network.coupling import AffineCouplingBlock
from helpers.data.photos import list_samples, load_image
from helpers.coding.mapping import T_MAPPED, map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from helpers.methods.base import get_method
from helpers.coding.payload import CapacityError, bytes_to_bits
from helpers.viz import residual, show_image

AUDIENCE_ERRORS = (CapacityError,)  # shown on the dashboard as part of the lesson; anything else is a bug

SAMPLE_TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
               "foolishness, it was the epoch of belief, it was the epoch of incredulity. ") * 40


# ----------------------------------------------------------------------------- plain functions

class _Scaled(nn.Module):
    def __init__(self, net: nn.Module, factor: float) -> None:
        super().__init__()
        self.net, self.factor = net, factor

    def forward(self, x):
        return self.factor * self.net(x)


@functools.lru_cache(maxsize=4)
def _photo(name: str | None = None, size: int = 64) -> torch.Tensor:
    paths = list_samples()
    path = next((p for p in paths if p.stem == name), paths[0])
    return load_image(path)[:, :size, :size]


@torch.no_grad()
def coupling_demo(clamp: float = 2.0, scale: float = 1.0, shift: float = 1.0, seed: int = 0, size: int = 64) -> dict:
    """One coupling block (eqs. 1-4) with small random subnetworks on a photo and a random secret
    map; ``scale`` multiplies the log-scale network rho and ``shift`` the shift network eta before
    the soft clamp. Returns the inputs, outputs, reconstruction, its largest error and the
    log-determinant (notebook 01)."""
    torch.manual_seed(seed)

    def subnet(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, 16, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(16, c_out, 3, padding=1))

    block = AffineCouplingBlock(subnet, 3, 3, clamp=clamp)
    block.rho, block.eta = _Scaled(block.rho, scale), _Scaled(block.eta, shift)
    cover = _photo(None, size)[None]
    secret = (torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed)) < 0.5).float() / 2
    cover_next, secret_next, log_det = block(cover, secret, return_log_det=True)
    cover_rec, secret_rec = block.inverse(cover_next, secret_next)
    error = max(float((cover_rec - cover).abs().max()), float((secret_rec - secret).abs().max()))
    return {"cover": cover[0], "secret": secret[0], "cover_next": cover_next[0], "secret_next": secret_next[0],
            "cover_rec": cover_rec[0], "secret_rec": secret_rec[0], "max_error": error, "log_det": float(log_det[0]),
            "log_scale_range": (float(block.log_scale(cover_next).min()), float(block.log_scale(cover_next).max()))}


def payload_bits(kind: str, n: int = 4096, seed: int = 0) -> torch.Tensor:
    """``n`` message bits of a kind: ``"text"`` (English, UTF-8), ``"random"`` or ``"all-ones"``."""
    if kind == "text":
        bits = bytes_to_bits(SAMPLE_TEXT.encode())[:n]
    elif kind == "random":
        bits = np.random.default_rng(seed).integers(0, 2, n)
    elif kind == "all-ones":
        bits = np.ones(n)
    else:
        raise ValueError(f"payload kind must be text, random or all-ones, got {kind!r}")
    return torch.from_numpy(np.asarray(bits, dtype=np.uint8))


def mapping_demo(kind: str = "text", t: float = T_MAPPED, noise: float = 0.1, mapping: bool = True,
                 n: int = 4096, seed: int = 0) -> dict:
    """Algorithms 1 and 2 with Gaussian noise of standard deviation ``noise`` added to the secret
    map (what rounding and an imperfect network do) and the threshold ``t`` of the inverse mapping:
    the values the receiver sees, the flip flag and the recovery accuracy (notebook 03). Without
    mapping the bits stay {0, 1} and are read with the same threshold ``t``."""
    bits = payload_bits(kind, n, seed)
    if mapping:
        secret_map, turn = map_bits(bits)
    else:
        secret_map, turn = map_bits_plain(bits), False
    rng = torch.Generator().manual_seed(seed + 1)
    secret_rev = secret_map + noise * torch.randn(secret_map.shape, generator=rng)
    got = unmap_bits(secret_rev, turn, t) if mapping else unmap_bits_plain(secret_rev, t)
    return {"bits": bits, "secret_map": secret_map, "secret_rev": secret_rev, "turn": bool(turn), "t": t,
            "ra": float((got == bits).float().mean()), "ones": float(bits.float().mean())}


@functools.lru_cache(maxsize=8)
def _hidden(photo: str, message: str, bpp: int, mode: str, checkpoint: str | None = None):
    """The expensive part of :func:`stego_demo` (cached: moving only the magnification is instant)."""
    from helpers.evaluation.metrics import psnr, ssim
    from helpers.data.photos import pil_to_tensor

    path = next(p for p in list_samples() if p.stem == photo)
    start = time.perf_counter()
    method = get_method(mode)
    if checkpoint and method.needs_key:  # the paper's network is key mode's; blind mode keeps its own
        method = get_method(mode, checkpoint=checkpoint)
    method.set_bpp(bpp)
    hidden = method.hide(path, message.encode(), filler_seed=0)
    # key mode's hide reveals its own stego image (the same inverse pass on the same 8-bit stego and
    # z): one forward and one inverse pass instead of three (tests/test_stego.py goes via PNG)
    revealed = hidden.info.get("message") or method.reveal(hidden.stego, hidden.key)
    stego, ra = hidden.stego, hidden.info["raw_ra"]
    cover = load_image(path)
    stego_t = pil_to_tensor(stego)
    return {"cover": cover, "stego": stego_t, "psnr": psnr(cover, stego_t), "ssim": ssim(cover, stego_t),
            "revealed": revealed.decode("utf-8", errors="replace"), "exact": revealed == message.encode(),
            "ra": ra, "seconds": time.perf_counter() - start}


def stego_demo(photo: str | None = None, message: str = "Meet at dawn.", bpp: int = 3, mode: str = "key",
               magnify: int = 40, checkpoint=None) -> dict:
    """Hide ``message`` in a bundled 128 x 128 photo (key mode: the paper's scheme with the network
    of ``checkpoint``, default the shipped one; blind mode: the PNG alone), reveal it, and return cover, stego, the residual
    ``|stego - cover| x magnify`` (clipped to [0, 1]), PSNR, SSIM, the revealed text, ``exact``
    (the revealed bytes equal the message) and RA: the share of hidden bits the network gives back
    before any correction (the paper's recovery accuracy; key mode then flips the bits the key
    lists, blind mode corrects them with its Reed-Solomon code, so the message is exact either way)."""
    photo = photo or list_samples()[0].stem
    result = dict(_hidden(photo, message, bpp if bpp in get_method(mode).bpp_choices else 1, mode,
                          None if checkpoint is None else str(checkpoint)))
    result["residual"] = residual(result["stego"], result["cover"], magnify)
    result["magnify"] = magnify
    return result


@functools.lru_cache(maxsize=2)
def _steganalysis_sets(n: int, checkpoint: str | None = None):
    from PIL import Image

    from helpers.evaluation.harness import make_stegos
    from helpers.evaluation.statistical import estimate

    covers = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in list_samples()[:: max(1, 55 // n)][:n]])
    inn = _kept(covers, lambda: make_stegos("inn", covers, seed=1, checkpoint=checkpoint), checkpoint)
    return covers, [estimate(c) for c in covers], [estimate(s) for s in inn]


def _kept(covers: np.ndarray, make, checkpoint: str | None = None) -> np.ndarray:
    """The paper's network's stego images of ``covers`` (``make()``), kept in the cache folder under
    a hash of the covers and the checkpoint (default the shipped one): they take seconds (README, For instructors), and every
    later first build of the steganalysis dashboard (a restarted kernel, the next lecture) reads them
    instead. ``.npy`` without pickle: loading runs no code."""
    import hashlib

    from helpers.plumbing.files import write_atomic
    from helpers.settings import SHIPPED_PAPER, cache_dir

    weights = Path(checkpoint or SHIPPED_PAPER).read_bytes()
    key = hashlib.sha256(covers.tobytes() + weights + b"inn stego, seed 1").hexdigest()[:16]
    path = cache_dir() / "dashboards" / f"steganalysis-{key}.npy"
    try:
        kept = np.load(path, allow_pickle=False)
        if kept.shape == covers.shape and kept.dtype == np.uint8:
            return kept
    except (OSError, ValueError):  # not there yet, or damaged: make it again
        pass
    stegos = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda f: np.save(f, stegos, allow_pickle=False))
    except OSError:  # a read-only cache folder: the dashboard works, only slower next time
        pass
    return stegos


def steganalysis_demo(payload: float = 1.0, detector: str = "spa", n: int = 12, seed: int = 0, checkpoint=None) -> dict:
    """LSB replacement at ``payload`` (share of the red channel's pixels) against the paper's
    network (3 bpp; ``checkpoint``, default the shipped one) on ``n`` bundled covers: ``detector``'s median payload
    estimate (a mean over the three channels, so LSB at payload p reads about p / 3), and its ROC
    curve and AUC for both (notebook 08)."""
    from helpers.methods.baselines import lsb_hide
    from helpers.evaluation.statistical import auc, estimate, roc_curve

    covers, cover_est, inn_est = _steganalysis_sets(n, None if checkpoint is None else str(checkpoint))
    rng = np.random.default_rng(seed)
    h, w = covers.shape[1:3]
    lsb = [lsb_hide(c, rng.integers(0, 2, int(payload * h * w)), seed=seed + i) for i, c in enumerate(covers)]
    lsb_est = [estimate(s) for s in lsb]
    out = {"payload": payload, "detector": detector, "estimates": {}}
    for name, est in (("cover", cover_est), ("LSB", lsb_est), ("paper's INN", inn_est)):
        out["estimates"][name] = float(np.median([e[detector] for e in est]))
    for name, est in (("LSB", lsb_est), ("paper's INN", inn_est)):
        c, s = [e[detector] for e in cover_est], [e[detector] for e in est]
        out[f"roc {name}"] = roc_curve(c, s)
        out[f"auc {name}"] = auc(c, s)
    return out


# ----------------------------------------------------------------------------- dashboards

@dataclass
class Dashboard:
    """A built dashboard: ``widget`` to display, ``controls`` by name (set their ``.value`` to
    drive it), ``result`` (the plain function's last return value), ``figure`` (the matplotlib
    figure it last rendered), ``errors`` (callback errors, also shown below the figure),
    ``seconds`` (how long the last callback took) and ``first_png`` (its first figure as a PNG).

    Displayed as a cell's result, it shows the live widget where a kernel runs and its first
    figure everywhere else: the output carries both, and a page without widget state (the book,
    GitHub, nbconvert) shows the PNG."""

    widget: object
    controls: dict
    result: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    seconds: float = 0.0
    status: object = None  # an HTML line: "working ..." while a callback runs, then how long it took
    figure: object = None
    first_png: bytes = b""

    def mimebundle(self) -> dict:
        """What displaying the dashboard outputs: the widget's view (the live dashboard, where a
        kernel and the widget state are) and, beside it, the first figure as a PNG."""
        import base64

        data = {"text/plain": f"<dashboard: {len(self.controls)} controls>",
                "application/vnd.jupyter.widget-view+json": {"version_major": 2, "version_minor": 0,
                                                             "model_id": self.widget.model_id}}
        if self.first_png:
            data["image/png"] = base64.b64encode(self.first_png).decode("ascii")
        return data

    def _ipython_display_(self, **kwargs):  # the same for ipywidgets 7 (Colab) and 8
        from IPython.display import display

        display(self.mimebundle(), raw=True)


def _under_test() -> bool:
    return "PYTEST_CURRENT_TEST" in os.environ


def _dashboard(title: str, controls: dict, draw, css: str, working: str = "working ...") -> Dashboard:
    """The common frame: controls, the figure (``interactive_output`` over ``draw``), a status line
    that says ``working`` while a callback runs (widget updates reach the page at once, while the
    kernel is still busy) and how long the last one took, and errors in an ``Output``."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    errors = w.Output()
    status = w.HTML("")
    board = Dashboard(widget=None, controls=controls, status=status)

    def callback(**values):
        start = time.perf_counter()
        status.value = f"<i>{working}</i>"
        errors.clear_output()
        outcome = "done"
        try:
            board.result = draw(**values)
            board.figure = plt.gcf()  # what was rendered (the tests read it)
            if not board.first_png:  # the static picture of the dashboard (class docstring)
                buf = io.BytesIO()
                board.figure.savefig(buf, format="png", dpi=72, bbox_inches="tight")
                board.first_png = buf.getvalue()
            plt.show()
        except Exception as e:  # shown to the audience, kept for the tests; the dashboard stays alive
            board.errors.append(e)
            outcome = "failed (see below)"
            plt.close("all")
            with errors:
                print(f"error: {e}")
                traceback.print_exc(limit=1)
            if _under_test() and not isinstance(e, AUDIENCE_ERRORS):
                raise  # a bug: fail the test (in a kernel ipywidgets shows it; the check below fails the cell)
        finally:
            board.seconds = time.perf_counter() - start
            status.value = f"<small>{outcome} in {board.seconds:.2f} s</small>"

    out = w.interactive_output(callback, controls)
    bugs = [e for e in board.errors if not isinstance(e, AUDIENCE_ERRORS)]
    if bugs and _under_test():
        raise RuntimeError(f"the {title} dashboard failed on its first draw: {bugs[0]!r}") from bugs[0]
    for name, c in controls.items():
        c.add_class(f"inn-{css}-{name.replace('_', '-')}")
    out.add_class(f"inn-{css}-figure")
    status.add_class(f"inn-{css}-status")
    board.widget = w.VBox([w.HTML(f"<b>{title}</b>"), w.HBox(list(controls.values())[:3]),
                           w.HBox(list(controls.values())[3:]), status, out, errors])
    board.widget.add_class(f"inn-{css}")
    return board


def coupling_dashboard() -> Dashboard:
    """Clamp, scale and shift sliders on one coupling block: input, output, reconstruction, error
    and log-determinant."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = {"clamp": w.FloatSlider(2.0, min=0.1, max=5.0, step=0.1, description="clamp"),
                "scale": w.FloatSlider(1.0, min=0.0, max=10.0, step=0.5, description="scale (rho)"),
                "shift": w.FloatSlider(1.0, min=0.0, max=10.0, step=0.5, description="shift (eta)")}

    def draw(clamp, scale, shift):
        r = coupling_demo(clamp, scale, shift)
        fig, axes = plt.subplots(1, 4, figsize=(11, 3))
        show_image(axes[0], r["cover"], "cover (input)")
        show_image(axes[1], r["cover_next"], "cover branch out")
        show_image(axes[2], r["secret_next"] + 0.5, "secret branch out (+0.5)")
        show_image(axes[3], r["cover_rec"], f"reconstructed, max error {r['max_error']:.1e}")
        fig.suptitle(f"log|det J| = {r['log_det']:.1f}; clamped log-scale in [{r['log_scale_range'][0]:.2f}, "
                     f"{r['log_scale_range'][1]:.2f}]", fontsize=10)
        return r

    return _dashboard("Coupling block explorer (notebook 01)", controls, draw, "coupling")


def mapping_dashboard() -> Dashboard:
    """Payload kind, threshold t, noise level, mapping on/off: histogram of ``secret_rev`` against
    the threshold and the recovery accuracy."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = {"kind": w.Dropdown(options=["text", "random", "all-ones"], value="text", description="payload"),
                "t": w.FloatSlider(T_MAPPED, min=0.0, max=1.0, step=0.05, description="threshold t"),
                "noise": w.FloatSlider(0.1, min=0.0, max=0.5, step=0.02, description="noise σ"),
                "mapping": w.Checkbox(True, description="mapping module")}

    def draw(kind, t, noise, mapping):
        r = mapping_demo(kind, t, noise, mapping)
        fig, ax = plt.subplots(figsize=(8, 3))
        rev, bits = r["secret_rev"].numpy().ravel(), r["bits"].numpy().ravel()
        bins = np.linspace(rev.min(), rev.max(), 81)
        for bit, colour in ((0, "tab:blue"), (1, "tab:orange")):  # by the bit that was hidden
            ax.hist(rev[bits == bit], bins=bins, color=colour, alpha=0.6, label=f"hidden {bit}s ({(bits == bit).sum()})")
        ax.axvline(t, color="k", ls="--", label=f"threshold t = {t:.2f}")
        ax.set(xlabel="secret_rev (what the receiver sees)", ylabel=f"values (of {rev.size})",
               title=f"{kind}: {100 * r['ones']:.0f} % ones, flip {'on' if r['turn'] else 'off'}, "
                     f"RA {100 * r['ra']:.2f} %")
        ax.legend(fontsize=8)
        return r

    return _dashboard("Mapping module explorer (notebook 03)", controls, draw, "mapping")


def stego_dashboard(checkpoint=None) -> Dashboard:
    """Photo, message, bpp, mode and magnification: cover, stego, residual, PSNR, SSIM, RA and the
    revealed message; key mode with the network of ``checkpoint`` (notebook 10's ``CHECKPOINT``)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    photos = [p.stem for p in list_samples()]
    controls = {"photo": w.Dropdown(options=photos, value=photos[0], description="photo"),
                "message": w.Text("Meet at dawn.", description="message", continuous_update=False),
                "mode": w.ToggleButtons(options=["key", "blind"], value="key", description="mode"),
                "bpp": w.Dropdown(options=[1, 3], value=3, description="bpp (key)"),
                "magnify": w.IntSlider(40, min=1, max=200, description="residual x", continuous_update=False)}

    def draw(photo, message, mode, bpp, magnify):
        r = stego_demo(photo, message, bpp, mode, magnify, checkpoint)
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
        show_image(axes[0], r["cover"], "cover")
        show_image(axes[1], r["stego"], f"stego: {r['psnr']:.1f} dB, SSIM {r['ssim']:.4f}")
        show_image(axes[2], r["residual"], f"|stego - cover| x {magnify}")
        fig.suptitle(f"revealed ({mode} mode, RA {100 * r['ra']:.2f} %, {'exact' if r['exact'] else 'NOT exact'}): "
                     f"{r['revealed'][:60]!r}", fontsize=10)
        return r

    # key mode: a forward and an inverse pass of the network at 128 x 128 (README, For instructors, times it)
    return _dashboard("Stego explorer (notebooks 06 and 09)", controls, draw, "stego",
                      working="working: hiding the message and revealing it again (up to 2 s on a laptop CPU) ...")


def steganalysis_dashboard(checkpoint=None) -> Dashboard:
    """Payload slider for LSB against the paper's network (``checkpoint``, default the shipped one):
    detector estimates and ROC curves."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from helpers.evaluation.statistical import DETECTORS

    controls = {"payload": w.FloatSlider(1.0, min=0.0, max=1.0, step=0.05, description="LSB payload",
                                         continuous_update=False),
                "detector": w.Dropdown(options=list(DETECTORS) + ["fused"], value="spa", description="detector")}

    def draw(payload, detector):
        r = steganalysis_demo(payload, detector, checkpoint=checkpoint)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
        names = list(r["estimates"])
        axes[0].bar(names, [r["estimates"][k] for k in names], color=["tab:gray", "tab:orange", "tab:blue"])
        # estimates are means over the three channels and LSB-1bit writes the red one only
        axes[0].axhline(payload / 3, color="tab:orange", ls=":", label="true LSB payload / 3 channels")
        axes[0].set(ylabel=f"median {detector} estimate", title="estimated payload")
        axes[0].legend(fontsize=8)
        for name, c in (("LSB", "tab:orange"), ("paper's INN", "tab:blue")):
            fpr, tpr = r[f"roc {name}"]
            axes[1].plot(fpr, tpr, color=c, label=f"{name} (AUC {r[f'auc {name}']:.2f})")
        axes[1].plot([0, 1], [0, 1], "k:")
        axes[1].set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, {detector}")
        axes[1].legend(fontsize=8)
        return r

    return _dashboard("Steganalysis explorer (notebook 08)", controls, draw, "steganalysis")
