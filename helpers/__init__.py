"""Helpers for the notebook series on lossless image steganography with invertible
neural networks (Liu, Tang, Zheng, Entropy 2022).

Each module's docstring names the notebook that teaches it; the README's "Map of helpers/" lists
them all. The folders group them by what they do:

* :mod:`helpers.network` - the coupling block, the dense block, ``StegoINN`` (notebooks 01, 02)
* :mod:`helpers.coding` - Algorithms 1 and 2, bits and frames, blind mode's Reed-Solomon layer (03, 06, 09)
* :mod:`helpers.plumbing` - files, images, running a trained network (06)
* :mod:`helpers.methods` - every way to hide behind one interface (06, 07, 08, 09)
* :mod:`helpers.data`, :mod:`helpers.training` - photos and datasets (01, 04); training (05)
* :mod:`helpers.evaluation` - metrics, the paper's tables, steganalysis, where the message lives (07-09)
* top level, user-facing: the command line, settings, exercises, figures, dashboards (all)
"""

from helpers.network.coupling import AffineCouplingBlock, soft_clamp
from helpers.network.dense import DenseBlock
from helpers.coding.mapping import T_MAPPED, T_PLAIN, map_bits, map_bits_plain, unmap_bits, unmap_bits_plain
from helpers.network.model import StegoINN, quantize_8bit
from helpers.coding.payload import (CapacityError, NoMessageError, bits_to_bytes, bytes_to_bits, capacity_bits, capacity_bytes,
                      message_to_plane, plane_to_message)
from helpers.methods.key_mode import Key, KeyFileError, RevealError, hide, reveal

__version__ = "0.1.0"

__all__ = [
    "AffineCouplingBlock", "soft_clamp", "DenseBlock", "StegoINN", "quantize_8bit",
    "T_MAPPED", "T_PLAIN", "map_bits", "unmap_bits", "map_bits_plain", "unmap_bits_plain",
    "CapacityError", "NoMessageError", "bytes_to_bits", "bits_to_bytes", "capacity_bits", "capacity_bytes",
    "message_to_plane", "plane_to_message", "hide", "reveal", "Key", "RevealError", "KeyFileError",
]
