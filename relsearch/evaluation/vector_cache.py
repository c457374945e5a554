"""A disk cache of pair vectors, keyed by the encoder's fingerprint, so re-runs skip encoding.

Layout: ``<cache dir>/vectors/<key>/<shard>.npy`` (float16 rows) next to ``<shard>.json`` (the
pairs, in row order). A shard is named by the hash of its pairs and is written in chunks while
encoding, so an interrupted run keeps what it finished. Both files are written atomically and
the ``.npy`` last: a shard counts only when its ``.npy`` exists and matches its pair list.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from relsearch.base_models import cache_dir
from relsearch.errors import RelsearchError
from relsearch.pairs import Pair
from relsearch.progress import progress_bar

log = logging.getLogger("relsearch")

EncodeFn = Callable[[list[Pair]], np.ndarray]


def vector_cache_dir(key: str) -> Path:
    """``<relsearch cache dir>/vectors/<key>``."""
    return cache_dir() / "vectors" / key


def _write_atomic(path: Path, write: Callable[[object], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _load_shards(root: Path) -> dict[Pair, tuple[np.ndarray, int]]:
    """Map every cached pair to (its shard array, row); unreadable or partial shards are ignored."""
    found: dict[Pair, tuple[np.ndarray, int]] = {}
    for npy in sorted(root.glob("[!.]*.npy")):
        try:
            pairs = json.loads(npy.with_suffix(".json").read_text(encoding="utf-8"))
            array = np.load(npy, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable cache shard %s (%s)", npy, exc)
            continue
        if array.ndim != 2 or len(array) != len(pairs):
            log.warning("ignoring cache shard %s: %d rows for %d pairs", npy, len(array), len(pairs))
            continue
        for row, (head, tail) in enumerate(pairs):
            found[(head, tail)] = (array, row)
    return found


def _save_shard(root: Path, pairs: list[Pair], vectors: np.ndarray) -> None:
    name = hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode()).hexdigest()[:20]
    payload = json.dumps(pairs, ensure_ascii=False).encode()
    _write_atomic(root / f"{name}.json", lambda fh: fh.write(payload))  # type: ignore[attr-defined]
    _write_atomic(root / f"{name}.npy", lambda fh: np.save(fh, vectors, allow_pickle=False))  # type: ignore[arg-type]


def cached_encode(
    pairs: Sequence[Pair],
    encode: EncodeFn,
    key: str,
    *,
    chunk_size: int = 4096,
    progress: bool = False,
    description: str = "encoding pairs",
) -> np.ndarray:
    """Vectors for ``pairs`` (float32, in order), encoding only those not cached under ``key``.

    Stored as float16, and returned as the float16 values for cached and new pairs alike, so a
    re-run gives the same numbers as the first run.
    """
    root = vector_cache_dir(key)
    root.mkdir(parents=True, exist_ok=True)
    found = _load_shards(root)
    missing = list(dict.fromkeys(p for p in pairs if p not in found))
    if found and missing:
        log.info("vector cache %s: %d pairs cached, %d to encode", root, len(found), len(missing))
    with progress_bar(len(missing), description, enabled=progress and bool(missing)) as advance:
        for start in range(0, len(missing), chunk_size):
            chunk = missing[start : start + chunk_size]
            vectors = np.asarray(encode(chunk), dtype=np.float32)
            half = vectors.astype(np.float16)
            if not np.isfinite(half).all():
                raise RelsearchError("vectors overflow float16 (|x| > 65504); cannot cache them")
            _save_shard(root, chunk, half)
            for row, pair in enumerate(chunk):
                found[pair] = (half, row)
            advance(len(chunk))
    if not pairs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([found[p][0][found[p][1]] for p in pairs]).astype(np.float32)
