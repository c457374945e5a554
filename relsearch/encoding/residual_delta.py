"""Compact fine-tuning deltas: int8 codes of ``trained - base`` per matrix row.

Fine-tuning moves each weight by a tiny fraction of its size, so the *difference* to the base
weights quantises to int8 with an error far below float16's rounding of the weights themselves:
per output row, ``scale = max |d| / 127`` and ``q = round(d / scale)``, and the loader rebuilds
``base + q * scale`` in float32. Matrices (2-D tensors) are stored this way (one byte per
weight); vectors (biases, LayerNorm) are few and stored whole in float32.

In a safetensors file a matrix ``name`` becomes ``name.q`` (int8) and ``name.scale`` (float32,
one per row); any other tensor keeps its name.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

ENCODING = "residual-int8"
CODES, SCALES = ".q", ".scale"


def encode_residual(
    trained: Mapping[str, torch.Tensor], base: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The tensors to store for ``trained`` over ``base`` (same names, same shapes)."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in trained.items():
        value = tensor.detach().to("cpu", torch.float32)
        if value.dim() != 2 or not value.is_floating_point():
            out[name] = value.contiguous()
            continue
        diff = value - base[name].detach().to("cpu", torch.float32)
        scale = diff.abs().amax(dim=1) / 127.0
        safe = torch.where(scale > 0, scale, torch.ones_like(scale))
        codes = torch.round(diff / safe[:, None]).clamp_(-127, 127).to(torch.int8)
        out[name + CODES] = codes.contiguous()
        out[name + SCALES] = scale.contiguous()
    return out


def decode_residual(
    stored: Mapping[str, torch.Tensor], base: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The full tensors (float32) that ``stored`` encodes over ``base``; raises KeyError on a bad file."""
    out: dict[str, torch.Tensor] = {}
    for key, tensor in stored.items():
        if key.endswith(SCALES):
            continue
        if key.endswith(CODES):
            name = key[: -len(CODES)]
            scale = stored[name + SCALES].to(torch.float32)
            out[name] = base[name].to(torch.float32) + tensor.to(torch.float32) * scale[:, None]
        else:
            out[key] = tensor.to(torch.float32)
    return out


def stored_names(stored: Mapping[str, torch.Tensor]) -> list[str]:
    """The model tensor names a stored residual file covers."""
    return sorted({k[: -len(CODES)] if k.endswith(CODES) else k for k in stored if not k.endswith(SCALES)})
