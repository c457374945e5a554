"""Which backend and precision run the forward passes, chosen by measurement when asked to.

Backends: ``torch`` (eager PyTorch, the reference) and ``openvino`` (``relsearch[openvino]``;
see :mod:`relsearch.encoding.openvino_backend`). ``auto`` for backend or dtype is resolved
from this machine's calibration for the model when one is cached, else from CPU flags (the
torch backend; bfloat16 with bf16 units, int8 with int8 dot products, else float32).

:func:`calibrate` times every candidate (backend, dtype) on the same pairs, compares its
vectors with torch float32 ones, and keeps the fastest that passes the accuracy gate (mean
cosine >= :data:`GATE_MEAN` and every pair >= :data:`GATE_MIN`). The result is cached in
``$RELSEARCH_CACHE/calibration.json`` per CPU model, thread count and model content
fingerprint; ``relsearch build-index`` calibrates on first use.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relsearch.encoding.cpu_features import cpu_features, cpu_name
from relsearch.errors import RelsearchError
from relsearch.pairs import Pair

BACKENDS = ("auto", "torch", "openvino")
GATE_MEAN = 0.999
GATE_MIN = 0.995
CALIBRATION_FILE = "calibration.json"


def cache_file() -> Path:
    """``$RELSEARCH_CALIBRATION_FILE``, or ``calibration.json`` in relsearch's cache folder."""
    from relsearch.base_models import cache_dir

    override = os.environ.get("RELSEARCH_CALIBRATION_FILE")
    return Path(override) if override else cache_dir() / CALIBRATION_FILE


def calibration_pairs(n: int = 256, seed: int = 0) -> list[Pair]:
    """``n`` seeded pairs of words of the shipped vocabulary (or made-up words without it)."""
    from relsearch.default_model import DATA_DIR

    try:
        lines = (DATA_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
        words = [w for w in lines if w and not w.startswith("#")]
    except OSError:
        words = []
    if len(words) < 2:
        words = [f"word{i}" for i in range(100)]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(words), size=(n, 2))
    return [(words[a], words[b if b != a else (a + 1) % len(words)]) for a, b in picks.tolist()]


def machine_key(content_fingerprint: str) -> str:
    """Calibration cache key: CPU model and flags, torch threads, model content."""
    import torch

    flags = ",".join(cpu_features().to_dict()["flags"])
    return f"{cpu_name()}|{flags}|threads={torch.get_num_threads()}|{content_fingerprint}"


def _read_cache() -> dict[str, Any]:
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cached_choice(content_fingerprint: str) -> dict[str, Any] | None:
    """The calibration stored for this machine and model, or None."""
    entry = _read_cache().get(machine_key(content_fingerprint))
    return entry if isinstance(entry, dict) and "backend" in entry and "dtype" in entry else None


def _store(content_fingerprint: str, entry: dict[str, Any]) -> None:
    from relsearch.storage.atomic import write_json_atomic

    data = _read_cache()
    data[machine_key(content_fingerprint)] = entry
    path = cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, data)


def heuristic_dtype(backend: str, device: Any) -> str:
    """The dtype CPU flags suggest for ``backend`` (no measurement)."""
    from relsearch.encoding.precision import resolve_dtype

    dtype = resolve_dtype("auto", device)
    if backend == "openvino" and dtype == "int8":
        return "float32"
    return dtype


def check_backend(backend: str, dtype: str) -> None:
    """Raise on an unknown backend, a missing OpenVINO, or a combination that does not exist."""
    from relsearch.encoding import openvino_backend
    from relsearch.encoding.precision import DTYPES

    if backend not in BACKENDS:
        raise RelsearchError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if dtype not in DTYPES:
        raise RelsearchError(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    if backend == "openvino":
        if not openvino_backend.available():
            raise RelsearchError(
                "the openvino backend needs the openvino package: pip install 'relsearch[openvino]'"
            )
        if dtype == "int8":
            raise RelsearchError("the openvino backend runs float32 or bfloat16; use --dtype bfloat16")


def resolve_backend(encoder: Any, backend: str, dtype: str) -> tuple[str, str]:
    """Concrete ``(backend, dtype)`` for the requested ones (see the module docstring)."""
    from relsearch.encoding.precision import resolve_dtype

    check_backend(backend, dtype)
    if backend != "auto" and dtype != "auto":
        return backend, resolve_dtype(dtype, encoder.device)
    if encoder.device.type == "cpu" and cache_file().is_file():  # hashing the weights costs ~1 s
        choice = cached_choice(encoder.content_fingerprint)
        if (
            choice is not None
            and backend in ("auto", choice["backend"])
            and dtype in ("auto", choice["dtype"])
        ):
            return str(choice["backend"]), str(choice["dtype"])
    if backend == "auto":
        backend = "torch"
    return backend, (
        resolve_dtype(dtype, encoder.device) if dtype != "auto" else heuristic_dtype(backend, encoder.device)
    )


def candidates(backend: str, dtype: str) -> list[tuple[str, str]]:
    """The (backend, dtype) combinations calibration times for the requested ones."""
    from relsearch.encoding import openvino_backend

    features = cpu_features()
    combos = [("torch", "float32")]
    if features.bf16:
        combos.append(("torch", "bfloat16"))
    if features.int8_dot:
        combos.append(("torch", "int8"))
    if openvino_backend.available():
        combos.append(("openvino", "float32"))
        if features.bf16:
            combos.append(("openvino", "bfloat16"))
    return [(b, d) for b, d in combos if backend in ("auto", b) and dtype in ("auto", d)]


def calibrate(
    encoder: Any,
    pairs: Sequence[Pair],
    *,
    backend: str = "auto",
    dtype: str = "auto",
    say: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    """Time each candidate on ``pairs``, pick the fastest that passes the gate, cache and apply it.

    Returns the cached entry: ``backend``, ``dtype``, ``why`` and every candidate's
    ``pairs_per_second``, ``mean_cosine`` and ``min_cosine``.
    """
    combos = candidates(backend, dtype)
    if not combos:
        raise RelsearchError(f"no backend runs backend={backend!r} with dtype={dtype!r} here")
    pairs = list(pairs)
    warm, timed = pairs[: max(1, len(pairs) // 8)], pairs
    batch = encoder.batch_size
    saved_weight = encoder.settings
    import dataclasses

    encoder.settings = dataclasses.replace(saved_weight, word_weight=0.0)  # prompt vectors only
    results: list[dict[str, Any]] = []
    reference: np.ndarray | None = None
    try:
        for b, d in [("torch", "float32"), *[c for c in combos if c != ("torch", "float32")]]:
            encoder.use_backend(b, d)
            encoder.encode(warm, batch_size=batch)
            start = time.perf_counter()
            vectors = encoder.encode(timed, batch_size=batch)
            seconds = time.perf_counter() - start
            if reference is None:
                reference = vectors
            cos = np.sum(vectors * reference, axis=1)
            row = {
                "backend": b,
                "dtype": d,
                "pairs_per_second": round(len(timed) / seconds, 1),
                "mean_cosine": round(float(np.mean(cos)), 6),
                "min_cosine": round(float(np.min(cos)), 6),
            }
            row["passes"] = row["mean_cosine"] >= GATE_MEAN and row["min_cosine"] >= GATE_MIN
            results.append(row)
            say(
                f"calibration: {b} {d}: {row['pairs_per_second']:,.1f} pairs/s, cosine to float32 "
                f"mean {row['mean_cosine']:.5f} min {row['min_cosine']:.5f}"
                + ("" if row["passes"] else " (fails the accuracy gate)")
            )
    finally:
        encoder.settings = saved_weight
    eligible = [r for r in results if r["passes"] and (r["backend"], r["dtype"]) in combos]
    best = max(eligible, key=lambda r: r["pairs_per_second"]) if eligible else results[0]
    entry = {
        "backend": best["backend"],
        "dtype": best["dtype"],
        "why": f"fastest of {len(results)} measured that keeps mean cosine >= {GATE_MEAN} and min >= "
        f"{GATE_MIN} to float32 ({best['pairs_per_second']:,.1f} pairs/s on {len(timed)} pairs)",
        "cpu": cpu_name(),
        "pairs": len(timed),
        "measured": results,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _store(encoder.content_fingerprint, entry)
    encoder.use_backend(entry["backend"], entry["dtype"])
    return entry
