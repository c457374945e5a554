"""What the CPU can do fast: native bfloat16 and int8 dot-product instructions.

Torch's own probes (``torch.cpu._is_*_supported``, backed by the cpuinfo library) are used
where they exist; on Linux the ``flags`` line of ``/proc/cpuinfo`` is the fallback.
"""

from __future__ import annotations

import functools
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: /proc/cpuinfo flags that mean native bfloat16 matrix arithmetic.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
#: /proc/cpuinfo flags that mean int8 dot products (u8 x s8 -> s32 in one instruction).
INT8_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


@dataclass(frozen=True)
class CpuFeatures:
    """Instruction-set facts that decide the fastest inference precision."""

    bf16: bool  # AVX512-BF16 or AMX-BF16: bfloat16 matmuls at twice the fp32 rate or more
    int8_dot: bool  # VNNI or AMX-INT8: int8 matmuls at up to four times the fp32 rate
    amx: bool
    flags: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["flags"] = sorted(self.flags & (BF16_FLAGS | INT8_FLAGS | {"avx512f", "avx2"}))
        return out


def cpuinfo_flags(path: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    """The first ``flags`` line of ``/proc/cpuinfo`` as a set (empty where there is none)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def _torch_probe(name: str) -> bool | None:
    import torch

    probe = getattr(torch.cpu, name, None)
    if probe is None:
        return None
    try:
        return bool(probe())
    except Exception:  # a probe that cannot run tells nothing
        return None


def cpu_name() -> str:
    """The CPU model name (``/proc/cpuinfo``), or the platform's processor string elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def cpu_features() -> CpuFeatures:
    """This machine's features (cached)."""
    flags = cpuinfo_flags()
    amx = _torch_probe("_is_amx_tile_supported")
    bf16 = _torch_probe("_is_avx512_bf16_supported")
    vnni = _torch_probe("_is_vnni_supported")
    amx = bool(amx) or bool(flags & {"amx_tile", "amx_bf16", "amx_int8"})
    return CpuFeatures(
        bf16=bool(bf16) or bool(flags & BF16_FLAGS) or amx,
        int8_dot=bool(vnni) or bool(flags & INT8_FLAGS) or amx,
        amx=amx,
        flags=flags,
    )
