"""Write small, valid index directories straight from pairs and vectors (per relsearch/storage/).

The query side is tested against these, independently of the builder. Files are written
with plain numpy/pyarrow/faiss calls; the manifest lists their sizes and checksums unless
``checksums=False`` (an index from before relsearch recorded them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from relsearch.storage.atomic import write_json_atomic
from relsearch.storage.checksums import file_record
from relsearch.storage.layout import (
    EMBEDDINGS_DIR,
    FAISS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_FILE,
    PAIRS_FILE,
    PARQUET_METADATA_KEY,
    shard_name,
    shard_path,
)

# fmt: off
WORDS = [
    "barista", "coffee", "baker", "bread", "brewer", "beer", "winemaker", "wine", "bartender", "cocktail",
    "king", "queen", "man", "woman", "paris", "france", "tokyo", "japan", "dog", "puppy", "cat", "kitten",
]
# fmt: on


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_pairs(n_words: int, n_pairs: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n_pairs`` distinct random ordered pairs over words ``w0 .. w{n_words-1}``."""
    rng = np.random.default_rng(seed)
    seen: dict[tuple[str, str], None] = {}
    while len(seen) < n_pairs:
        h, t = rng.integers(0, n_words, size=2)
        if h != t:
            seen.setdefault((f"w{h}", f"w{t}"), None)
    return list(seen)


def clustered_vectors(
    n: int, dim: int, *, clusters: int = 64, noise: float = 0.35, seed: int = 0
) -> np.ndarray:
    """Unit float32 vectors around random centres (closer to real embeddings than pure noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        m = min(65536, n - start)
        block = centres[rng.integers(0, clusters, m)] + noise * rng.standard_normal(
            (m, dim), dtype=np.float32
        )
        out[start : start + m] = unit(block)
    return out


def write_index(
    path: Path,
    pairs: Sequence[tuple[str, str]],
    vectors: np.ndarray,
    encoder_info: dict[str, Any],
    *,
    factory: str = "Flat",
    shard_size: int = 1000,
    metadata: dict[str, list[Any]] | None = None,
    search_params: dict[str, Any] | None = None,
    format_version: int = FORMAT_VERSION,
    checksums: bool = True,
) -> Path:
    """Write ``path`` as a complete index: shards, pairs.parquet, index.faiss, then the manifest."""
    path = Path(path)
    (path / EMBEDDINGS_DIR).mkdir(parents=True, exist_ok=True)
    half = np.asarray(vectors, dtype=np.float16)
    n, dim = half.shape
    n_shards = -(-n // shard_size)
    for k in range(n_shards):
        np.save(shard_path(path, k), half[k * shard_size : (k + 1) * shard_size])

    columns: dict[str, Any] = {
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "head": pa.array([h for h, _ in pairs], pa.string()),
        "tail": pa.array([t for _, t in pairs], pa.string()),
    }
    columns.update({name: pa.array(values) for name, values in (metadata or {}).items()})
    table = pa.table(columns)
    info = {"format_version": format_version, "encoder_fingerprint": encoder_info.get("fingerprint")}
    table = table.replace_schema_metadata({PARQUET_METADATA_KEY: json.dumps(info).encode()})
    pq.write_table(table, path / PAIRS_FILE)

    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    as32 = half.astype(np.float32)
    if not index.is_trained:
        index.train(as32)
    index.add(as32)
    faiss.write_index(index, str(path / FAISS_FILE))

    words = {w for pair in pairs for w in pair}
    manifest = {
        "format": FORMAT_NAME,
        "format_version": format_version,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "encoder": dict(encoder_info),
        "faiss": {
            "factory": factory,
            "metric": "inner_product",
            "search_params": search_params or {},
            "recall_at_10": None,
        },
        "counts": {"pairs": n, "words": len(words), "shards": n_shards},
        "shard_size": shard_size,
        "input": {"kind": "pairs", "fingerprint": "test"},
        "build": {"settings": {"factory": factory}, "durations": {"total_s": 0.0}},
        "versions": {"faiss": faiss.__version__, "numpy": np.__version__},
    }
    if checksums:
        names = [PAIRS_FILE, FAISS_FILE, *(shard_name(k) for k in range(n_shards))]
        manifest["files"] = {name: file_record(path / name).to_dict() for name in names}
    write_json_atomic(path / MANIFEST_FILE, manifest)
    return path


def encoded_index(path: Path, encoder: Any, pairs: Sequence[tuple[str, str]], **kwargs: Any) -> Path:
    """An index whose vectors come from ``encoder`` (so stored and freshly encoded vectors agree)."""
    return write_index(path, pairs, encoder.encode(list(pairs)), encoder.describe(), **kwargs)
