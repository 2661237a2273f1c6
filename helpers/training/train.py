"""Training the paper's network (taught in notebook 05).

The loss is the paper's equation (7)::

    Loss = alpha * Loss_enc + beta * Loss_dec
    Loss_enc = || cover - stego ||^2                      (eq. 5, per image, averaged over the batch)
    Loss_dec = || secret_map - secret_rev ||^2            (eq. 6)

with ``secret_rev`` computed, as the paper describes, from the **8-bit rounded** stego image and z,
rounded with a straight-through estimator (:func:`round_straight_through`).

Choices the paper leaves open (notebook 05 discusses them; HiNet's code is the reference where it
has one): HiNet's Adam (10^-4.5, betas (0.5, 0.999), eps 1e-6, weight decay 1e-5); the rate halved
every 20 of our 50 epochs (HiNet's every 1000 would be constant over so short a run); PyTorch's
default init in every layer (HiNet's zero init makes the network the identity, which with z handed
to the receiver has loss exactly 0: nothing would train); squared errors summed per image and
averaged over the batch (independent of how a batch is split over GPUs); float32 (``amp=True``:
bfloat16 autocast on CUDA, whose 3 significant digits would set a floor near the paper's 67 dB, so
it stays off until a GPU run shows it does not); gradients clipped to ``grad_clip``, and a
non-finite loss or gradient stops training with :class:`TrainingDiverged`; on CUDA each step is
replayed as one CUDA graph (:class:`GraphedTrainStep`).

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

from helpers.data.photos import ImageFolder
from helpers.settings import pick_device
from helpers.plumbing.files import load_weights, save_checkpoint
from helpers.plumbing.inference import Network
from helpers.evaluation.metrics import psnr, psnr_per_image, recovery_accuracy
from helpers.coding.mapping import map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from helpers.network.model import StegoINN, quantize_8bit

CHECKPOINT_FORMAT = "inn-stego-checkpoint"
CHECKPOINT_VERSION = 1
# Notebook 05's PLAN setting, in epochs of the 1000-image subset (500 steps of batch 2 each):
# "paper" is the paper's configuration; "one-session" what fits in about an hour of Colab's T4
# (an estimate: benchmarks/colab_plan.py; running "paper" afterwards continues the same run)
PLANS = {"paper": 50, "one-session": 15}


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
    cuda_graph: bool = True         # replay each step as one CUDA graph (CUDA, single process only)
    workers: int = -1               # data-loading processes; -1: 4 on CUDA, 0 on the CPU


    def fingerprint(self) -> str:
        """A short hash of every setting that shapes the result (all but :data:`FREE_SETTINGS`):
        a folder name per configuration, so that runs with other settings never collide."""
        settings = {k: v for k, v in asdict(self).items() if k not in FREE_SETTINGS}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


# Settings that do not change what is learned: they may differ when a run is resumed.
FREE_SETTINGS = ("out", "epochs", "cuda_graph", "workers")


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite."""


def round_straight_through(stego: torch.Tensor) -> torch.Tensor:
    """8-bit rounding (:func:`helpers.network.model.quantize_8bit`) in the forward pass, identity in the
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
        if self.bpp == 1:  # 1 bpp layout: channel 0 only (helpers.coding.payload)
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


def random_batch(images, batch_size: int, generator: torch.Generator, device) -> torch.Tensor:
    """``batch_size`` covers drawn with replacement from a dataset (training crops of an
    :class:`~helpers.data.photos.ImageFolder` draw their crop from ``generator`` too), on ``device``."""
    idx = torch.randint(0, len(images), (batch_size,), generator=generator).tolist()
    get = (lambda i: images.get(i, generator=generator)) if hasattr(images, "get") else images.__getitem__
    return torch.stack([get(i) for i in idx]).to(device)


def guarded_step(model: nn.Module, optimizer, loss: torch.Tensor, step: int, name: str, start: float,
                 time_limit: float | None, clip: float = 10.0) -> bool:
    """One optimiser step of the short trainings (baselines, blind mode) with gradients clipped to
    ``clip``; a non-finite loss raises ``FloatingPointError``. Returns whether ``time_limit``
    seconds have passed since ``start`` (``time.perf_counter()``)."""
    if not torch.isfinite(loss):
        raise FloatingPointError(f"{name} training diverged at step {step} (loss {loss.item()}); "
                                 "lower the learning rate")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return time_limit is not None and time.perf_counter() - start > time_limit


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint without executing code (``weights_only=True``) and check its format."""
    return check_version(load_weights(path, CHECKPOINT_FORMAT, "inn-stego checkpoint", map_location=map_location), path)


def check_version(state: dict, path) -> dict:
    """Refuse a checkpoint written by a newer version of this code."""
    if state.get("version", 0) > CHECKPOINT_VERSION:
        raise ValueError(f"{path} has checkpoint version {state['version']}; this code reads up to "
                         f"{CHECKPOINT_VERSION}: update the package")
    return state


def network_from_state(state: dict, path) -> Network:
    """The trained :class:`~helpers.network.model.StegoINN` of a checkpoint and its configuration (read
    by :func:`helpers.plumbing.inference.load_network`), in eval mode."""
    check_version(state, path)
    model = StegoINN(**state["model_config"])
    model.load_state_dict(state["model"])
    return Network(model.eval(), state["model_config"])


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
    workers = cfg.workers if cfg.workers >= 0 else (min(4, os.cpu_count() or 1) if device.type == "cuda" else 0)
    loader = DataLoader(samples, batch_size=cfg.batch_size, sampler=sampler, num_workers=workers, drop_last=True,
                        pin_memory=device.type == "cuda")
    if len(loader) == 0:
        raise ValueError(f"{len(samples)} images are too few for batch size {cfg.batch_size} x {world} process(es)")

    model = model if model is not None else build_model(cfg)
    model.to(device)
    graphed = bool(cfg.cuda_graph) and device.type == "cuda" and world == 1
    optimizer = make_optimizer(model, cfg, capturable=graphed)
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
                   if k not in FREE_SETTINGS and hasattr(cfg, k) and getattr(cfg, k) != v}
        if changed:
            what = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
            raise ValueError(f"{ckpt_path} was trained with other settings ({what}); use another --out folder, "
                             "or the same settings to resume (only --epochs and speed settings may change)")
        if "optimizer" not in state:
            raise ValueError(f"{ckpt_path} is an exported checkpoint without optimiser state; it cannot be resumed: "
                             "use another --out folder")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        _set_capturable(optimizer, graphed)  # the checkpoint may come from a run with(out) CUDA graphs
        scheduler.load_state_dict(state["scheduler"])
        history, start_epoch = state["history"], state["epoch"] + 1
        if progress and rank == 0:
            print(f"resuming {ckpt_path}: epoch {start_epoch} of {cfg.epochs} done", flush=True)
    step_module = TrainStep(model)
    if world > 1:
        step_module = nn.parallel.DistributedDataParallel(step_module, device_ids=[device] if device.type == "cuda" else None)
    run_step = (GraphedTrainStep if graphed else EagerTrainStep)(step_module, model, optimizer, cfg, use_amp)

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
            loss, loss_enc, loss_dec, stego, secret_rev = run_step(cover, secret_map, epoch, step, ckpt_path, world)
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
        history["lr"].append(optimizer.param_groups[0]["lr"])  # the rate this epoch trained with
        scheduler.step()
        if world > 1:  # log the mean over all processes, not rank 0's share of the batch
            totals = torch.tensor(list(sums.values()), dtype=torch.float64, device=device)
            dist.all_reduce(totals)
            sums = dict(zip(sums, (totals / world).tolist()))
        for k in sums:
            history[k].append(sums[k] / n_steps)
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


def make_optimizer(model: nn.Module, cfg: TrainConfig, capturable: bool = False) -> torch.optim.Adam:
    """Adam with HiNet's settings (module docstring); ``capturable`` keeps its step count on the
    GPU so that a CUDA graph can replay the update."""
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.5, 0.999), eps=1e-6,
                            weight_decay=cfg.weight_decay, capturable=capturable)


def _set_capturable(optimizer: torch.optim.Optimizer, capturable: bool) -> None:
    for group in optimizer.param_groups:
        group["capturable"] = capturable
        for p in group["params"]:
            state = optimizer.state.get(p, {})
            if "step" in state:  # on the GPU when capturable, on the CPU otherwise (as Adam expects)
                state["step"] = state["step"].to(p.device if capturable else "cpu", torch.float32)


class EagerTrainStep:
    """One ordinary training step: forward + rounding + inverse (``step_module``), the paper's
    loss, backward, gradient clipping and Adam. Non-finite values stop it before the update."""

    def __init__(self, step_module, model, optimizer, cfg: TrainConfig, use_amp: bool = False) -> None:
        self.step_module, self.model, self.optimizer, self.cfg, self.use_amp = step_module, model, optimizer, cfg, use_amp

    def body(self, cover, secret_map, cache_enabled: bool = True):
        """Forward and loss (no synchronisation): ``(loss, loss_enc, loss_dec, stego, secret_rev)``."""
        device_type = cover.device.type
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=self.use_amp,
                            cache_enabled=cache_enabled):
            stego, secret_rev = self.step_module(cover, secret_map)
        return (*paper_loss(cover, stego, secret_map, secret_rev, self.cfg.alpha, self.cfg.beta), stego, secret_rev)

    def __call__(self, cover, secret_map, epoch=0, step=0, ckpt_path=Path("last.pt"), world=1):
        loss, loss_enc, loss_dec, stego, secret_rev = self.body(cover, secret_map)
        _check_finite(loss, "loss", epoch, step, ckpt_path, world, cover.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        _check_finite(grad_norm, "gradient norm", epoch, step, ckpt_path, world, cover.device)
        self.optimizer.step()
        return loss, loss_enc, loss_dec, stego, secret_rev


class GraphedTrainStep(EagerTrainStep):
    """The same step captured as one CUDA graph and replayed: one launch instead of about two
    thousand small kernel launches, for which the GPU otherwise waits at batch size 2 (CUDA only;
    the optimiser must be made with ``capturable=True``).

    The first ``warmup`` calls are ordinary steps on a side stream (they let cuDNN and the
    caching allocator settle, as CUDA graph capture requires); the next call captures the step
    into static input and output tensors, and every call after that copies its batch into the
    inputs and replays. A change of the learning rate (the schedule) captures again, because the
    rate is baked into the captured update. Non-finite values are detected after the update: the
    run stops and the last checkpoint (written before this epoch) is the one to resume from.
    """

    def __init__(self, step_module, model, optimizer, cfg: TrainConfig, use_amp: bool = False,
                 warmup: int = 3) -> None:
        super().__init__(step_module, model, optimizer, cfg, use_amp)
        self.warmup, self.calls, self.graph, self.lr = warmup, 0, None, None

    def _capture(self, cover, secret_map):
        self.graph = None
        self.static_in = (cover.clone(), secret_map.clone())
        self.optimizer.zero_grad(set_to_none=True)  # gradients are (re)allocated inside the graph
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = self.body(*self.static_in, cache_enabled=False)
            out[0].backward()
            self.static_grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
            self.optimizer.step()
        self.graph, self.static_out, self.lr = graph, out, self.optimizer.param_groups[0]["lr"]

    def __call__(self, cover, secret_map, epoch=0, step=0, ckpt_path=Path("last.pt"), world=1):
        self.calls += 1
        if self.calls <= self.warmup:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                out = super().__call__(cover, secret_map, epoch, step, ckpt_path, world)
            torch.cuda.current_stream().wait_stream(side)
            return out
        if self.graph is None or self.optimizer.param_groups[0]["lr"] != self.lr:
            torch.cuda.synchronize()
            self._capture(cover, secret_map)
        self.static_in[0].copy_(cover, non_blocking=True)
        self.static_in[1].copy_(secret_map, non_blocking=True)
        self.graph.replay()
        _check_finite(self.static_out[0], "loss", epoch, step, ckpt_path, world, cover.device)
        _check_finite(self.static_grad_norm, "gradient norm", epoch, step, ckpt_path, world, cover.device)
        return self.static_out


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


def export_checkpoint(src, dest, notes: str = "", *, toy: bool) -> Path:
    """Write a small, shippable copy of a training checkpoint: the weights, the configuration, the
    history and ``notes`` (how it was trained), without the optimiser state (which triples the size).
    ``toy=True`` marks a fast-mode network: notebooks 06-10's ``CHECKPOINT = "auto"`` never picks it
    (:func:`helpers.settings.exports`). Loads with :func:`helpers.plumbing.inference.load_network`;
    cannot resume training."""
    state = load_checkpoint(src)
    small = {k: state[k] for k in ("format", "version", "config", "model_config", "model", "epoch", "history")}
    small["model"] = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in small["model"].items()}
    small["notes"] = notes
    small["toy"] = bool(toy)
    dest = Path(dest)
    save_checkpoint(dest, small)
    return dest
