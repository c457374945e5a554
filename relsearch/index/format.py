"""The index directory format shared by the builder and the query side.

```
my-index/
  relsearch.json     manifest, written last and atomically (its existence = a complete index)
  pairs.parquet      id (= FAISS id = row number), head, tail, metadata columns;
                     relsearch metadata stamped in the schema under b"relsearch"
  index.faiss        plain faiss.write_index output, inner product over unit vectors
  embeddings/        part-00000.npy ... : normalised float16 rows in id order, shard k holding
                     ids [k * shard_size, (k + 1) * shard_size); checkpoint.json while building
  word_vectors.parquet  optional (hybrid encoders): word, vector (float32) of every indexed word
```

Manifest keys (``format_version`` 1):

- ``format``: ``"relsearch-index"``; ``format_version``: int; ``created``: ISO-8601 UTC
- ``encoder``: ``RelationEncoder.describe()`` (model, template, aggregation, max_length, dtype,
  dim, fingerprint)
- ``faiss``: ``factory`` (factory string), ``metric`` (``"inner_product"``), ``search_params``
  (e.g. ``{"nprobe": 16}``), ``recall_at_10`` (vs exact search on a held-out sample, or null)
- ``counts``: ``pairs``, ``words`` (distinct words over heads and tails), ``shards``
- ``shard_size``: int; ``input``: ``{"kind": "vocab" | "pairs", "fingerprint": str, ...}``
- ``build``: settings and durations; ``versions``: library versions that wrote it
- ``word_vectors`` (optional, added without a version change: older readers ignore it):
  ``{"file": "word_vectors.parquet", "words": int, "dim": int}``
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from relsearch.errors import IndexFormatError

FORMAT_NAME = "relsearch-index"
FORMAT_VERSION = 1
MANIFEST_FILE = "relsearch.json"
PAIRS_FILE = "pairs.parquet"
FAISS_FILE = "index.faiss"
WORD_VECTORS_FILE = "word_vectors.parquet"
EMBEDDINGS_DIR = "embeddings"
CHECKPOINT_FILE = "checkpoint.json"
PARQUET_METADATA_KEY = b"relsearch"
DEFAULT_INDEX_DIR = "relsearch-index"


def default_index_dir() -> Path:
    """``$RELSEARCH_INDEX`` or ``./relsearch-index``: where build-index writes and query reads."""
    return Path(os.environ.get("RELSEARCH_INDEX") or DEFAULT_INDEX_DIR)


def shard_path(index_dir: Path, shard: int) -> Path:
    """Path of embedding shard number ``shard``."""
    return index_dir / EMBEDDINGS_DIR / f"part-{shard:05d}.npy"


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON to a temp file in the same directory, fsync, then ``os.replace`` it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2, ensure_ascii=False, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    """Read and check the manifest of a complete index; raise ``IndexFormatError`` otherwise."""
    index_dir = Path(index_dir)
    if not index_dir.exists():
        raise IndexFormatError(
            f"no index at {str(index_dir)!r}; build one with `relsearch build-index VOCAB --out {index_dir}`"
        )
    path = index_dir / MANIFEST_FILE
    if not path.is_file():
        if (index_dir / EMBEDDINGS_DIR / CHECKPOINT_FILE).exists():
            raise IndexFormatError(
                f"the index at {str(index_dir)!r} is incomplete (a build stopped part-way); "
                "re-run the same build-index command to resume it"
            )
        raise IndexFormatError(f"{str(index_dir)!r} is not a relsearch index (no {MANIFEST_FILE})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"cannot read {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{path} is not a relsearch manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IndexFormatError(
            f"the index at {str(index_dir)!r} has format version {version}, newer than this relsearch "
            f"reads ({FORMAT_VERSION}); upgrade relsearch"
        )
    for name in (PAIRS_FILE, FAISS_FILE):
        if not (index_dir / name).is_file():
            raise IndexFormatError(f"the index at {str(index_dir)!r} lacks {name}; rebuild it")
    return manifest
