"""``pairs.parquet``: id, head, tail and metadata columns, with relsearch metadata in the schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from relsearch.index.format import FORMAT_NAME, FORMAT_VERSION, PARQUET_METADATA_KEY

#: Rows per Parquet row group: small enough that looking up a few ids reads little.
ROW_GROUP_SIZE = 65_536


def pairs_table(table: pa.Table) -> pa.Table:
    """Prepend ``id`` (int64, = row number = FAISS id) to a ``head``/``tail``/metadata table."""
    ids = pa.array(range(table.num_rows), type=pa.int64())
    return table.add_column(0, "id", ids)


def pairs_stamp(n: int, input_info: dict[str, Any], encoder_fingerprint: str | None) -> dict[str, Any]:
    """The schema metadata that makes ``pairs.parquet`` explain itself."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "id_column": "id",
        "pairs": n,
        "input": input_info,
        "encoder_fingerprint": encoder_fingerprint,
    }


def write_pairs_parquet(table: pa.Table, path: Path, stamp: dict[str, Any]) -> None:
    """Write ``table`` with ``stamp`` as JSON under the schema key ``b"relsearch"``, atomically."""
    metadata = dict(table.schema.metadata or {})
    metadata[PARQUET_METADATA_KEY] = json.dumps(stamp, ensure_ascii=False).encode("utf-8")
    table = table.replace_schema_metadata(metadata)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The relsearch metadata of a pairs file, or None if it has none or cannot be read."""
    try:
        metadata = pq.read_schema(path).metadata or {}
        return json.loads(metadata[PARQUET_METADATA_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None


def stamp_matches(path: Path, input_fingerprint: str, encoder_fingerprint: str | None) -> bool:
    """True if ``path`` was written for this input and encoder (a build resumes from it)."""
    stamp = read_stamp(path) or {}
    return (stamp.get("input") or {}).get("fingerprint") == input_fingerprint and stamp.get(
        "encoder_fingerprint"
    ) == encoder_fingerprint


def read_pairs(path: Path) -> pa.Table:
    """The whole pairs table (id, head, tail, metadata)."""
    return pq.read_table(path)
