"""File names of an index directory and where an index lives by default."""

from __future__ import annotations

import os
from pathlib import Path

FORMAT_NAME = "relsearch-index"
FORMAT_VERSION = 1
MANIFEST_FILE = "relsearch.json"
PAIRS_FILE = "pairs.parquet"
FAISS_FILE = "index.faiss"
WORD_VECTORS_FILE = "word_vectors.parquet"
EMBEDDINGS_DIR = "embeddings"
CHECKPOINT_FILE = "checkpoint.json"
VERIFIED_FILE = "verified.json"
LOCK_FILE = ".relsearch.lock"
PARQUET_METADATA_KEY = b"relsearch"
DEFAULT_INDEX_DIR = "relsearch-index"


def default_index_dir() -> Path:
    """``$RELSEARCH_INDEX`` or ``./relsearch-index``: where build-index writes and query reads."""
    return Path(os.environ.get("RELSEARCH_INDEX") or DEFAULT_INDEX_DIR)


def shard_name(shard: int) -> str:
    """Name of embedding shard number ``shard``, relative to the index directory."""
    return f"{EMBEDDINGS_DIR}/part-{shard:05d}.npy"


def shard_path(index_dir: Path, shard: int) -> Path:
    """Path of embedding shard number ``shard``."""
    return index_dir / shard_name(shard)


def shard_number(name: str) -> int | None:
    """The shard number of ``embeddings/part-NNNNN.npy``, else None."""
    prefix, suffix = f"{EMBEDDINGS_DIR}/part-", ".npy"
    digits = name[len(prefix) : -len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else ""
    return int(digits) if digits.isdigit() else None
