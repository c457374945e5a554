"""Inference precision: which dtypes exist, what ``"auto"`` means here, and the module that runs.

- ``float32``: the reference; the model runs as loaded.
- ``bfloat16``: ``torch.autocast`` to bfloat16 (fast only with native bf16 units: AVX512-BF16,
  AMX, or a GPU; on other CPUs it is emulated and slower than float32).
- ``int8``: linear layers as W8A8 int8 matmuls (:mod:`relsearch.encoding.int8`), CPU only;
  fast with int8 dot-product units (VNNI, AMX).
- ``auto``: a GPU with bf16 -> bfloat16; a CPU with bf16 units -> bfloat16; a CPU with int8
  dot products -> int8; otherwise float32. The resolved dtype is what encoders report and
  what index manifests record, so an index always says how its vectors were made.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from relsearch.encoding.cpu_features import cpu_features
from relsearch.encoding.int8 import RECIPE
from relsearch.errors import RelsearchError

DTYPES = ("auto", "float32", "bfloat16", "int8")


def resolve_dtype(dtype: str, device: torch.device) -> str:
    """The concrete dtype for ``dtype`` on ``device``; raise on an unknown name."""
    if dtype not in DTYPES:
        raise RelsearchError(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    if dtype == "int8" and device.type != "cpu":
        raise RelsearchError(
            f"dtype 'int8' runs on the CPU only, not on {device.type!r}; use dtype 'bfloat16' there"
        )
    if dtype != "auto":
        return dtype
    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    if device.type != "cpu":
        return "float32"
    features = cpu_features()
    if features.bf16:
        return "bfloat16"
    if features.int8_dot:
        return "int8"
    return "float32"


def fingerprint_tag(dtype: str) -> str:
    """What the fingerprint records for ``dtype`` (int8 names its quantisation recipe)."""
    return f"int8/{RECIPE}" if dtype == "int8" else dtype


def autocast(device: torch.device, dtype: str) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast for ``"bfloat16"``, a no-op otherwise."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bfloat16")


def inference_module(encoder: Any) -> torch.nn.Module:
    """The module that runs the forward passes of ``encoder`` at its (resolved) dtype."""
    if encoder.dtype == "int8":
        from relsearch.encoding.int8 import int8_model

        return int8_model(encoder)
    return encoder.model
