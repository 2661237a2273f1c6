"""Helpers for the notebook series on lossless image steganography with invertible
neural networks (Liu, Tang, Zheng, Entropy 2022).

Each public function names the notebook that teaches it. The modules:

* :mod:`helpers.coupling` - the affine coupling block, eqs. (1)-(4) (notebook 01)
* :mod:`helpers.dense` - the dense block for phi, rho, eta (notebook 02)
* :mod:`helpers.model` - the N-block network ``StegoINN`` and 8-bit rounding (notebook 02)
* :mod:`helpers.mapping` - Algorithms 1 and 2 (notebook 03)
* :mod:`helpers.payload` - bytes <-> bits, layout, capacity, the frame and filler (notebooks 03, 06)
* :mod:`helpers.metrics` - PSNR, SSIM and recovery accuracy (notebooks 02, 03, 06)
* :mod:`helpers.method` - one interface for every way to hide, and the registry by name (notebook 07)
* :mod:`helpers.stego` - key mode: key files, ``hide`` and ``reveal`` (notebook 06)
* :mod:`helpers.evaluate` - the evaluation harness and the paper's tables (notebook 07)
* :mod:`helpers.baselines` - LSB-1bit, Rehman et al., HiNet-style (notebooks 07, 08)
* :mod:`helpers.steganalysis` - RS, sample pairs, chi-square, weighted stego, ROC/AUC (notebook 08)
* :mod:`helpers.detectors` - learned detectors: XuNet-style, SRNet (notebook 08)
* :mod:`helpers.blind` and :mod:`helpers.ecc` - blind mode and its Reed-Solomon payload layer (notebook 09)
* :mod:`helpers.analysis` - where the message lives: the measurements of notebook 09
* :mod:`helpers.widgets` - the lecture dashboards (notebook 10)
* :mod:`helpers.data` - tensors from images, datasets and the bundled sample photos
* :mod:`helpers.images` - reading covers and stego images, writing PNGs (notebooks 06, 09)
* :mod:`helpers.inference` - running a trained network: device, memory layout, tiles (notebook 06)
* :mod:`helpers.files` - atomic writes, all-or-none pairs, checkpoint saves and weights-only loads
* :mod:`helpers.settings` - the settings cell of every notebook: mode, cache folder, which network
* :mod:`helpers.exercises` - checks for the exercises whose answer is a value
* :mod:`helpers.corpus` - held-out real photos from Debian packages (blind mode's figures)
* :mod:`helpers.train` - training, checkpoints, evaluation (notebook 05)
* :mod:`helpers.viz` - figures
"""

from .coupling import AffineCouplingBlock, soft_clamp
from .dense import DenseBlock
from .mapping import T_MAPPED, T_PLAIN, map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from .model import StegoINN, quantize_8bit
from .payload import (CapacityError, NoMessageError, bits_to_bytes, bytes_to_bits, capacity_bits, capacity_bytes,
                      message_to_plane, plane_to_message)
from .stego import Key, KeyFileError, RevealError, hide, reveal

__version__ = "0.1.0"

__all__ = [
    "AffineCouplingBlock", "soft_clamp", "DenseBlock", "StegoINN", "quantize_8bit",
    "T_MAPPED", "T_PLAIN", "map_bits", "unmap_bits", "map_bits_plain", "unmap_bits_plain",
    "CapacityError", "NoMessageError", "bytes_to_bits", "bits_to_bytes", "capacity_bits", "capacity_bytes",
    "message_to_plane", "plane_to_message", "hide", "reveal", "Key", "RevealError", "KeyFileError",
]
