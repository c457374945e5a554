"""File names of an index directory and where an index lives by default."""

from __future__ import annotations

import os
import re
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


_SHARD = re.compile(rf"{EMBEDDINGS_DIR}/part-(\d{{5,}})(?:\.g(\d+))?\.npy")
#: Files an update writes (generation g >= 1); the names a build writes are generation 0.
_GENERATIONAL = re.compile(r"(pairs|index|word_vectors)\.g\d+\.(parquet|faiss)")


def shard_name(shard: int, generation: int = 0) -> str:
    """Name of embedding shard number ``shard``, relative to the index directory.

    A build writes ``embeddings/part-NNNNN.npy``; an update that rewrites a shard writes it
    as ``embeddings/part-NNNNN.gG.npy`` (generation ``G``), so the old one stays readable.
    """
    tag = f".g{generation}" if generation else ""
    return f"{EMBEDDINGS_DIR}/part-{shard:05d}{tag}.npy"


def shard_path(index_dir: Path, shard: int, generation: int = 0) -> Path:
    """Path of embedding shard number ``shard`` (of ``generation``)."""
    return index_dir / shard_name(shard, generation)


def shard_number(name: str) -> int | None:
    """The shard number of ``embeddings/part-NNNNN[.gG].npy``, else None."""
    match = _SHARD.fullmatch(name)
    return int(match.group(1)) if match else None


def generation_name(name: str, generation: int) -> str:
    """``pairs.parquet`` → ``pairs.gG.parquet`` (and so on) for generation ``G`` >= 1."""
    if not generation:
        return name
    stem, _, ext = name.rpartition(".")
    return f"{stem}.g{generation}.{ext}"


def is_index_file(name: str) -> bool:
    """Whether ``name`` (relative) is one of the files relsearch writes as part of an index."""
    return (
        name in (MANIFEST_FILE, PAIRS_FILE, FAISS_FILE, WORD_VECTORS_FILE)
        or shard_number(name) is not None
        or _GENERATIONAL.fullmatch(name) is not None
    )
