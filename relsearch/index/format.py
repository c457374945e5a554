"""The names of an index directory's files, for code that only needs names and the manifest.

The storage code itself (one module per file, each writing and reading it) is
:mod:`relsearch.storage`; this module re-exports the names that the query side and other
callers import.
"""

from __future__ import annotations

from relsearch.storage.atomic import write_json_atomic
from relsearch.storage.layout import (
    CHECKPOINT_FILE,
    DEFAULT_INDEX_DIR,
    EMBEDDINGS_DIR,
    FAISS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_FILE,
    PAIRS_FILE,
    PARQUET_METADATA_KEY,
    VERIFIED_FILE,
    WORD_VECTORS_FILE,
    default_index_dir,
    shard_path,
)
from relsearch.storage.manifest import read_manifest

__all__ = [
    "CHECKPOINT_FILE",
    "DEFAULT_INDEX_DIR",
    "EMBEDDINGS_DIR",
    "FAISS_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "PAIRS_FILE",
    "PARQUET_METADATA_KEY",
    "VERIFIED_FILE",
    "WORD_VECTORS_FILE",
    "default_index_dir",
    "read_manifest",
    "shard_path",
    "write_json_atomic",
]
