"""The mapping module: the paper's Algorithms 1 and 2, and the "without mapping" variant.

Taught in notebook 03 (``notebooks/03_mapping_module.ipynb``).

All functions take bits (0/1 values of any shape, as a torch tensor, a numpy array or a
list) and return torch tensors. With ``batch=True`` the first dimension indexes separate
messages, each with its own ``turn`` flag.
"""

from __future__ import annotations

import torch

T_MAPPED = 0.25  # threshold t of Algorithms 1 and 2 (bits mapped to {0, 0.5})
T_PLAIN = 0.5    # threshold without mapping (bits kept as {0, 1}): the midpoint


def _as_tensor(x) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x)


def _check_bits(bits: torch.Tensor) -> None:
    if bits.numel() and not bool(((bits == 0) | (bits == 1)).all()):
        raise ValueError("message bits must all be 0 or 1; convert bytes with helpers.coding.payload.bytes_to_bits first")


def map_bits(message, batch: bool = False, t: float = T_MAPPED):
    """Algorithm 1 of the paper, as written::

        turn = False
        if sum(message) > len(message) / 2:
            secret_map = message < t     # flips every bit
            turn = True
        else:
            secret_map = message
        secret_map = secret_map / 2      # bits {0, 1} -> values {0, 0.5}

    Exactly half ones does not flip (the test is ``>``). Returns ``(secret_map, turn)``:
    ``secret_map`` is float32 with the shape of ``message``; ``turn`` is a Python bool, or
    a bool tensor of shape ``(batch,)`` when ``batch`` is true.
    """
    bits = _as_tensor(message)
    _check_bits(bits)
    bits = bits.to(torch.float32)
    if batch:
        flat = bits.reshape(bits.shape[0], -1)
        turn = flat.sum(1) > flat.shape[1] / 2
        shape = (-1,) + (1,) * (bits.dim() - 1)
        secret_map = torch.where(turn.reshape(shape), (bits < t).to(torch.float32), bits)
        return secret_map / 2, turn
    turn = bool(bits.sum() > bits.numel() / 2)
    secret_map = (bits < t).to(torch.float32) if turn else bits
    return secret_map / 2, turn


def unmap_bits(secret_rev, turn, t: float = T_MAPPED) -> torch.Tensor:
    """Algorithm 2 of the paper (inverse mapping ``i_map``), as written::

        if turn: message_rev = secret_rev <  t
        else:    message_rev = secret_rev >= t

    Any error ``|e| < t`` on each value of the secret map is undone exactly. ``turn`` is a
    bool, or a bool tensor of shape ``(batch,)`` for a batch. Returns uint8 bits.
    """
    secret_rev = _as_tensor(secret_rev)
    if isinstance(turn, torch.Tensor) and turn.dim() == 1:
        turn = turn.to(secret_rev.device).reshape((-1,) + (1,) * (secret_rev.dim() - 1))
        return torch.where(turn, secret_rev < t, secret_rev >= t).to(torch.uint8)
    return ((secret_rev < t) if bool(turn) else (secret_rev >= t)).to(torch.uint8)


def map_bits_plain(message) -> torch.Tensor:
    """"Without mapping" (the paper's Table 4 ablation): bits enter the network as they
    are, values {0, 1}, never flipped. Returns float32."""
    bits = _as_tensor(message)
    _check_bits(bits)
    return bits.to(torch.float32)


def unmap_bits_plain(secret_rev, t: float = T_PLAIN) -> torch.Tensor:
    """Inverse of :func:`map_bits_plain`: ``secret_rev >= 0.5``, i.e. rounding to the nearer
    of 0 and 1. Any error ``|e| < 0.5`` is undone. Returns uint8 bits."""
    return (_as_tensor(secret_rev) >= t).to(torch.uint8)
