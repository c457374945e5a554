"""``relsearch.json``: the manifest, written last and atomically (its existence = a complete index).

Keys (``format_version`` 1):

- ``format``: ``"relsearch-index"``; ``format_version``: int; ``created``: ISO-8601 UTC
- ``encoder``: ``RelationEncoder.describe()`` (model, template, aggregation, max_length, dtype,
  dim, fingerprint)
- ``faiss``: ``factory``, ``metric`` (``"inner_product"``), ``search_params`` (e.g.
  ``{"nprobe": 16}``), ``recall_at_10`` (vs exact search on a held-out sample, or null)
- ``counts``: ``pairs``, ``words`` (distinct words over heads and tails), ``shards``
- ``shard_size``: int; ``input``: ``{"kind": "vocab" | "pairs", "fingerprint": str, ...}``
- ``build``: settings and durations; ``versions``: library versions that wrote it
- ``word_vectors`` (optional): ``{"file": "word_vectors.parquet", "words": int, "dim": int}``
- ``files`` (optional, added without a version change): every other file of the index by its
  relative name, ``{"bytes": int, "xxh3_128": hex}``; indexes written before it have no
  checksums and are read unchecked
- ``generation`` and ``paths`` (optional, written by ``relsearch add`` / ``remove``): the
  update count, and the names of the files that make up this generation of the index
  (``pairs``, ``faiss``, ``word_vectors``, ``shards``: one name per shard); without them the
  names are the build's (``pairs.parquet``, ``index.faiss``, ``embeddings/part-NNNNN.npy``)
- ``updates`` (optional): one entry per ``relsearch add`` / ``remove`` since the build

An update writes the files it changes under new names (``pairs.g2.parquet``,
``embeddings/part-00007.g2.npy``, ...) and the manifest last, so until the new manifest
replaces the old one the directory holds the old index, whole.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relsearch.errors import DamagedFileError, IndexFormatError
from relsearch.storage.atomic import write_json_atomic
from relsearch.storage.checksums import FileRecord, check_size, records_to_dict
from relsearch.storage.layout import (
    CHECKPOINT_FILE,
    EMBEDDINGS_DIR,
    FAISS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_FILE,
    PAIRS_FILE,
    WORD_VECTORS_FILE,
    shard_name,
)

LIBRARIES = ("relsearch", "faiss-cpu", "numpy", "pyarrow", "torch", "transformers")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that shape an index (None where not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def build_manifest(
    *,
    encoder: dict[str, Any],
    faiss_info: dict[str, Any],
    counts: dict[str, int],
    shard_size: int,
    input_info: dict[str, Any],
    build: dict[str, Any],
    files: dict[str, FileRecord] | None = None,
) -> dict[str, Any]:
    """The manifest as this module's docstring documents it."""
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": now_utc(),
        "encoder": encoder,
        "faiss": faiss_info,
        "counts": counts,
        "shard_size": shard_size,
        "input": input_info,
        "build": build,
        "versions": library_versions(),
    }
    if files is not None:
        manifest["files"] = records_to_dict(files.items())
    return manifest


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    path = out_dir / MANIFEST_FILE
    write_json_atomic(path, manifest)
    return path


def file_records(manifest: dict[str, Any]) -> dict[str, FileRecord]:
    """The manifest's ``files`` block (empty for indexes written without checksums)."""
    records = {}
    for name, raw in (manifest.get("files") or {}).items():
        record = FileRecord.from_dict(raw)
        if record is not None:
            records[name] = record
    return records


@dataclass(frozen=True)
class IndexPaths:
    """The names (relative to the index directory) of the files of one generation of an index."""

    pairs: str
    faiss: str
    word_vectors: str | None
    shards: tuple[str, ...]

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> IndexPaths:
        paths = manifest.get("paths") or {}
        counts = manifest.get("counts") or {}
        size = int(manifest.get("shard_size") or 1)
        n_shards = -(-int(counts.get("pairs", 0)) // max(size, 1))
        shards = paths.get("shards") or [shard_name(k) for k in range(n_shards)]
        word_vectors = paths.get("word_vectors", WORD_VECTORS_FILE) if manifest.get("word_vectors") else None
        return cls(
            paths.get("pairs", PAIRS_FILE), paths.get("faiss", FAISS_FILE), word_vectors, tuple(shards)
        )

    def names(self) -> list[str]:
        """Every file of this generation (besides the manifest)."""
        return [self.pairs, self.faiss, *self.shards, *([self.word_vectors] if self.word_vectors else [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "faiss": self.faiss,
            "word_vectors": self.word_vectors,
            "shards": list(self.shards),
        }


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    """Read and check the manifest of a complete index; raise ``IndexFormatError`` otherwise.

    Every file the manifest lists must exist with its recorded size (a ``stat`` each: cheap);
    checksums are checked when each file is read.
    """
    index_dir = Path(index_dir)
    manifest = read_manifest_only(index_dir)
    records = file_records(manifest)
    paths = IndexPaths.from_manifest(manifest)
    for name in (paths.pairs, paths.faiss):
        if name not in records and not (index_dir / name).is_file():
            raise DamagedFileError(name, "is missing", str(index_dir))
    for name, record in records.items():
        try:
            check_size(index_dir / name, record, name)
        except DamagedFileError as exc:
            raise exc.at(index_dir) from None
    return manifest


def read_manifest_only(index_dir: Path) -> dict[str, Any]:
    """The parsed manifest of a complete index, without looking at the other files."""
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
        raise DamagedFileError(MANIFEST_FILE, f"cannot be read ({exc})", str(index_dir)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise DamagedFileError(MANIFEST_FILE, "is not a relsearch manifest", str(index_dir))
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IndexFormatError(
            f"the index at {str(index_dir)!r} has format version {version}, newer than this relsearch "
            f"reads ({FORMAT_VERSION}); upgrade relsearch"
        )
    return manifest


def disk_usage(index_dir: Path, manifest: dict[str, Any]) -> dict[str, int]:
    """Bytes per part of the index (the files its manifest names): manifest, pairs file, FAISS
    index, embedding shards (``embeddings``), word vectors, and ``total``."""
    paths = IndexPaths.from_manifest(manifest)

    def size(name: str) -> int:
        try:
            return (index_dir / name).stat().st_size
        except OSError:
            return 0

    sizes = {MANIFEST_FILE: size(MANIFEST_FILE), PAIRS_FILE: size(paths.pairs), FAISS_FILE: size(paths.faiss)}
    sizes[EMBEDDINGS_DIR] = sum(size(name) for name in paths.shards)
    if paths.word_vectors:
        sizes[WORD_VECTORS_FILE] = size(paths.word_vectors)
    return {**sizes, "total": sum(sizes.values())}
