"""Training the paper's network (taught in notebook 05).

The loss is the paper's equation (7)::

    Loss = alpha * Loss_enc + beta * Loss_dec
    Loss_enc = || cover - stego ||^2                      (eq. 5, per image, averaged over the batch)
    Loss_dec = || secret_map - secret_rev ||^2            (eq. 6)

with ``secret_rev`` computed, as the paper describes, from the **8-bit rounded** stego image and
z. Rounding has zero gradient almost everywhere, so the rounded image is formed with a
straight-through estimator: ``stego + (round(stego) - stego).detach()``. Its value is the rounded
image, its gradient is that of ``stego`` (see :func:`round_straight_through`).

Choices the paper leaves open, and ours (HiNet's code is the reference):

* optimiser: Adam, learning rate ``10 ** -4.5`` (about 3.2e-5), betas (0.5, 0.999), eps 1e-6,
  weight decay 1e-5, as HiNet;
* schedule: the learning rate halves every ``lr_step_epochs`` epochs (HiNet: step decay);
* epochs: 50 by default (25,000 steps over 1,000 images at batch size 2);
* initialisation: PyTorch's default in every layer (``last_init="default"``). The paper does not
  say; HiNet zero-initialises the last layer of each dense block, which makes the network the
  identity, and with z handed to the receiver the identity has loss exactly 0: training would
  not move (notebook 05 shows it, notebook 09 dissects it);
* squared errors are summed over the pixels of an image and averaged over the batch (HiNet sums
  over the batch too; averaging makes the loss independent of how a batch is split over GPUs);
* precision: float32 by default. ``amp=True`` runs the forward and inverse passes under bfloat16
  autocast on CUDA (faster), but bfloat16 keeps about 3 significant digits, and at the paper's
  67 dB the stego differs from the cover by about 1e-3 per value: the rounding of bfloat16 itself
  would set a floor on both losses. It stays off until a GPU run shows it does not cap PSNR;
* gradients are clipped to a global norm of ``grad_clip``; a non-finite loss or gradient stops
  training with :class:`TrainingDiverged`, naming the last good checkpoint to resume from.

Every random choice (crop, flip, message bits) is drawn from a generator seeded by
``(seed, epoch, image index)``, and the shuffling by ``(seed, epoch)``: a run is reproducible on
the CPU, a resumed run repeats an uninterrupted one exactly, and data-parallel training over N
processes (``torchrun``) sees the same global batches as one process with N times the batch.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .data import ImageFolder, pick_device
from .metrics import psnr, psnr_per_image, recovery_accuracy
from .mapping import map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from .model import StegoINN, quantize_8bit

CHECKPOINT_FORMAT = "inn-stego-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass
class TrainConfig:
    """Everything a training run depends on; stored in every checkpoint. Defaults: the paper."""

    data: str = ""                  # folder of training images
    out: str = "runs/paper"         # checkpoints go here (last.pt)
    epochs: int = 50
    batch_size: int = 2             # paper: 2 (per process under torchrun)
    crop: int = 128                 # paper: 128 x 128
    n_blocks: int = 8               # paper: 8
    clamp: float = 2.0
    growth: int = 32
    last_init: str = "default"      # "zero" starts at the loss's minimum: nothing to train (notebook 05)
    alpha: float = 1.0              # paper: 1
    beta: float = 10.0              # paper: 10
    bpp: int = 3                    # paper: 3
    mapping: bool = True            # paper: with the mapping module
    lr: float = 10 ** -4.5
    weight_decay: float = 1e-5
    lr_step_epochs: int = 20
    lr_gamma: float = 0.5
    grad_clip: float = 10.0
    seed: int = 0
    amp: bool = False               # bfloat16 autocast on CUDA (off: see the module docstring)
    max_steps_per_epoch: int = 0    # 0: the whole epoch (fast mode uses a few)
    limit_images: int = 0           # 0: every image in the folder


    def fingerprint(self) -> str:
        """A short hash of every setting that shapes the result (all but ``out`` and ``epochs``):
        a folder name per configuration, so that runs with other settings never collide."""
        settings = {k: v for k, v in asdict(self).items() if k not in ("out", "epochs")}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite."""


def round_straight_through(stego: torch.Tensor) -> torch.Tensor:
    """8-bit rounding (:func:`helpers.model.quantize_8bit`) in the forward pass, identity in the
    backward pass (straight-through estimator)."""
    return stego + (quantize_8bit(stego) - stego).detach()


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one image's random crop, flip and message bits in one epoch."""
    return ((seed * 1_000_003 + epoch) * 1_000_033 + index) % (2 ** 63)


class TrainingSamples(Dataset):
    """(cover crop, message bits) pairs; every random choice is a function of (seed, epoch, index)."""

    def __init__(self, images: ImageFolder, bpp: int, seed: int) -> None:
        if bpp not in (1, 3):
            raise ValueError(f"bpp must be 1 or 3, got {bpp}")
        self.images, self.bpp, self.seed, self.epoch = images, bpp, seed, 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        g = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch, index))
        cover = self.images.get(index, generator=g)
        bits = torch.randint(0, 2, cover.shape, generator=g, dtype=torch.uint8)
        if self.bpp == 1:  # 1 bpp layout: channel 0 only (helpers.payload)
            bits[1:] = 0
        return cover, bits


class TrainStep(nn.Module):
    """Forward, straight-through 8-bit rounding, inverse: one module, so that DDP sees every
    parameter use in a single ``forward`` call."""

    def __init__(self, model: StegoINN) -> None:
        super().__init__()
        self.model = model

    def forward(self, cover: torch.Tensor, secret_map: torch.Tensor):
        stego, z = self.model(cover, secret_map)
        _, secret_rev = self.model.inverse(round_straight_through(stego), z)
        return stego, secret_rev


def paper_loss(cover, stego, secret_map, secret_rev, alpha: float, beta: float):
    """Equations (5)-(7): returns ``(loss, loss_enc, loss_dec)``."""
    loss_enc = ((stego.float() - cover) ** 2).flatten(1).sum(1).mean()
    loss_dec = ((secret_rev.float() - secret_map) ** 2).flatten(1).sum(1).mean()
    return alpha * loss_enc + beta * loss_dec, loss_enc, loss_dec


def build_model(cfg: TrainConfig) -> StegoINN:
    """The network a config describes (seeded, so the initial weights are reproducible)."""
    torch.manual_seed(cfg.seed)
    return StegoINN(n_blocks=cfg.n_blocks, clamp=cfg.clamp, growth=cfg.growth, last_init=cfg.last_init)


def save_checkpoint(path: Path, state: dict) -> None:
    """Write atomically: a temporary file renamed into place, so an interruption never leaves
    a half-written checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint without executing code (``weights_only=True``) and check its format."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # pickle errors, truncation, code that weights_only refuses
        raise ValueError(f"{path} is not a readable inn-stego checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not an inn-stego checkpoint")
    if state.get("version", 0) > CHECKPOINT_VERSION:
        raise ValueError(f"{path} has checkpoint version {state['version']}; this code reads up to "
                         f"{CHECKPOINT_VERSION}: update the package")
    return state


def model_from_checkpoint(path, map_location="cpu") -> StegoINN:
    """The trained :class:`~helpers.model.StegoINN` stored in a checkpoint, in eval mode."""
    state = load_checkpoint(path, map_location)
    model = StegoINN(**state["model_config"])
    model.load_state_dict(state["model"])
    return model.eval()


def _dist_info():
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(cfg: TrainConfig, resume: bool = True, model: StegoINN | None = None, progress: bool = True) -> dict:
    """Train (or continue training) the network described by ``cfg``.

    Checkpoints go to ``cfg.out/last.pt`` after every epoch. With ``resume`` and an existing
    checkpoint, training continues after its last epoch and gives the same weights as an
    uninterrupted run. Under ``torchrun`` (environment variable ``WORLD_SIZE`` > 1) it runs
    data-parallel (DDP, backend ``nccl`` on GPUs, ``gloo`` on CPUs); each process takes
    ``cfg.batch_size`` images per step.

    Returns ``{"model": StegoINN, "history": {...per-epoch lists...}, "checkpoint": Path}``.
    """
    if not cfg.data:
        raise ValueError("no training data: give a folder of images (--data DIR)")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    started_dist = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        started_dist = True
    rank, world = _dist_info()
    try:
        return _train(cfg, resume, model, progress, rank, world)
    finally:
        if started_dist:
            dist.destroy_process_group()


def _train(cfg, resume, model, progress, rank, world):
    from tqdm.auto import tqdm

    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = pick_device()
    use_amp = bool(cfg.amp) and device.type == "cuda"
    out = Path(cfg.out)
    ckpt_path = out / "last.pt"

    images = ImageFolder(cfg.data, size=cfg.crop, train=True)
    if cfg.limit_images:
        images.paths = images.paths[:cfg.limit_images]
    samples = TrainingSamples(images, cfg.bpp, cfg.seed)
    sampler = DistributedSampler(samples, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed,
                                 drop_last=True)
    loader = DataLoader(samples, batch_size=cfg.batch_size, sampler=sampler, num_workers=0, drop_last=True,
                        pin_memory=device.type == "cuda")
    if len(loader) == 0:
        raise ValueError(f"{len(samples)} images are too few for batch size {cfg.batch_size} x {world} process(es)")

    model = model if model is not None else build_model(cfg)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.5, 0.999), eps=1e-6,
                                 weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg.lr_step_epochs, gamma=cfg.lr_gamma)
    history = {k: [] for k in ("loss", "loss_enc", "loss_dec", "psnr", "ra", "lr", "seconds",
                               "step_loss", "step_psnr", "step_ra")}
    start_epoch = 0
    if resume and ckpt_path.is_file():
        state = load_checkpoint(ckpt_path, map_location=device)
        if state["model_config"] != model.config:
            raise ValueError(f"{ckpt_path} holds a different network ({state['model_config']}); "
                             "use another --out folder or the same model settings")
        changed = {k: (v, getattr(cfg, k)) for k, v in state["config"].items()
                   if k not in ("epochs", "out") and hasattr(cfg, k) and getattr(cfg, k) != v}
        if changed:
            what = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
            raise ValueError(f"{ckpt_path} was trained with other settings ({what}); use another --out folder, "
                             "or the same settings to resume (only --epochs may change)")
        if "optimizer" not in state:
            raise ValueError(f"{ckpt_path} is an exported checkpoint without optimiser state; it cannot be resumed: "
                             "use another --out folder")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, start_epoch = state["history"], state["epoch"] + 1
    step_module = TrainStep(model)
    if world > 1:
        step_module = nn.parallel.DistributedDataParallel(step_module, device_ids=[device] if device.type == "cuda" else None)

    for epoch in range(start_epoch, cfg.epochs):
        samples.epoch = epoch
        sampler.set_epoch(epoch)
        model.train()
        t0 = time.time()
        sums = {"loss": 0.0, "loss_enc": 0.0, "loss_dec": 0.0, "psnr": 0.0, "ra": 0.0}
        n_steps = len(loader) if not cfg.max_steps_per_epoch else min(len(loader), cfg.max_steps_per_epoch)
        bar = tqdm(total=n_steps, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress or rank != 0,
                   leave=False)
        for step, (cover, bits) in enumerate(loader):
            if step >= n_steps:
                break
            cover, bits = cover.to(device, non_blocking=True), bits.to(device, non_blocking=True)
            if cfg.mapping:
                secret_map, turn = map_bits(bits, batch=True)
            else:
                secret_map, turn = map_bits_plain(bits), None
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                stego, secret_rev = step_module(cover, secret_map)
            loss, loss_enc, loss_dec = paper_loss(cover, stego, secret_map, secret_rev, cfg.alpha, cfg.beta)
            _check_finite(loss, "loss", epoch, step, ckpt_path, world, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            _check_finite(grad_norm, "gradient norm", epoch, step, ckpt_path, world, device)
            optimizer.step()
            with torch.no_grad():
                bits_rev = unmap_bits(secret_rev.float(), turn) if cfg.mapping else unmap_bits_plain(secret_rev.float())
            for k, v in (("loss", loss.item()), ("loss_enc", loss_enc.item()), ("loss_dec", loss_dec.item()),
                         ("psnr", psnr(cover, quantize_8bit(stego.detach().float()))),
                         ("ra", recovery_accuracy(bits, bits_rev))):
                sums[k] += v
                if k in ("loss", "psnr", "ra"):  # per step, this process's batch (for curves)
                    history["step_" + k].append(v)
            bar.update(1)
            bar.set_postfix(loss=f"{sums['loss'] / (step + 1):.4g}", psnr=f"{sums['psnr'] / (step + 1):.2f}",
                            ra=f"{sums['ra'] / (step + 1):.4%}")
        bar.close()
        scheduler.step()
        if world > 1:  # log the mean over all processes, not rank 0's share of the batch
            totals = torch.tensor(list(sums.values()), dtype=torch.float64, device=device)
            dist.all_reduce(totals)
            sums = dict(zip(sums, (totals / world).tolist()))
        for k in sums:
            history[k].append(sums[k] / n_steps)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        history["seconds"].append(time.time() - t0)
        if rank == 0:
            save_checkpoint(ckpt_path, {
                "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": asdict(cfg),
                "model_config": dict(model.config), "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "epoch": epoch, "history": history, "world_size": world,
            })
            if progress:
                print(f"epoch {epoch + 1}/{cfg.epochs}: loss {history['loss'][-1]:.4g} "
                      f"(enc {history['loss_enc'][-1]:.4g}, dec {history['loss_dec'][-1]:.4g}), "
                      f"PSNR {history['psnr'][-1]:.2f} dB, RA {history['ra'][-1]:.4%}, "
                      f"{history['seconds'][-1]:.1f} s", flush=True)
        if world > 1:
            dist.barrier()
    return {"model": model.eval(), "history": history, "checkpoint": ckpt_path}


def _check_finite(value: torch.Tensor, what: str, epoch: int, step: int, ckpt_path: Path, world: int, device):
    bad = torch.tensor(0.0 if torch.isfinite(value).all() else 1.0, device=device)
    if world > 1:  # every process must stop together, or the others wait for ever
        dist.all_reduce(bad)
    if bad.item():
        last = (f"the last good checkpoint is {ckpt_path} (resume continues from it)" if ckpt_path.is_file()
                else "no checkpoint was written yet")
        raise TrainingDiverged(f"the {what} became NaN or infinite at epoch {epoch + 1}, step {step + 1}; training "
                               f"stopped. {last}. Lower --lr or --grad-clip and run again.")


def config_fields() -> list:
    """The fields of :class:`TrainConfig` (the command line builds its options from them)."""
    return list(fields(TrainConfig))


@torch.no_grad()
def evaluate(model: StegoINN, images, bpp: int = 3, mapping: bool = True, seed: int = 12345,
             batch_size: int = 8, device=None) -> dict:
    """Per-image PSNR (cover vs 8-bit stego) and recovery accuracy (after 8-bit rounding, inverse
    with z, Algorithm 2) over a dataset of covers, with random message bits seeded by ``seed``.
    Returns lists ``psnr``, ``ra`` and ``changed`` (share of 8-bit values that differ from the cover)."""
    device = device or next(model.parameters()).device
    model.eval()
    samples = TrainingSamples(images, bpp, seed)
    out = {"psnr": [], "ra": [], "changed": []}
    for cover, bits in DataLoader(samples, batch_size=batch_size):
        cover, bits = cover.to(device), bits.to(device)
        secret_map, turn = map_bits(bits, batch=True) if mapping else (map_bits_plain(bits), None)
        stego, z = model(cover, secret_map)
        stego_8bit = quantize_8bit(stego)
        _, secret_rev = model.inverse(stego_8bit, z)
        bits_rev = unmap_bits(secret_rev, turn) if mapping else unmap_bits_plain(secret_rev)
        out["psnr"] += psnr_per_image(cover, stego_8bit).tolist()
        out["ra"] += (bits_rev == bits).flatten(1).float().mean(1).tolist()
        out["changed"] += (torch.round(stego_8bit * 255) != torch.round(cover * 255)).flatten(1).float().mean(1).tolist()
    return out


def export_checkpoint(src, dest, notes: str = "") -> Path:
    """Write a small, shippable copy of a training checkpoint: the weights, the configuration, the
    history and ``notes`` (how it was trained), without the optimiser state (which triples the size).
    Loads with :func:`model_from_checkpoint`; cannot resume training."""
    state = load_checkpoint(src)
    small = {k: state[k] for k in ("format", "version", "config", "model_config", "model", "epoch", "history")}
    small["model"] = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in small["model"].items()}
    small["notes"] = notes
    dest = Path(dest)
    save_checkpoint(dest, small)
    return dest
