"""``pairs.parquet``: id, head, tail and metadata columns, with relsearch metadata in the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from relsearch.errors import DamagedFileError
from relsearch.storage.atomic import atomic_write
from relsearch.storage.checksums import FileRecord, check_file, file_record, short
from relsearch.storage.layout import FORMAT_NAME, FORMAT_VERSION, PAIRS_FILE, PARQUET_METADATA_KEY

#: Rows per Parquet row group: small enough that looking up a few ids reads little.
ROW_GROUP_SIZE = 65_536


def pairs_table(table: pa.Table, first_id: int = 0) -> pa.Table:
    """Prepend ``id`` (int64, = row number = FAISS id) to a ``head``/``tail``/metadata table."""
    ids = pa.array(range(first_id, first_id + table.num_rows), type=pa.int64())
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


def write_pairs_parquet(table: pa.Table, path: Path, stamp: dict[str, Any]) -> FileRecord:
    """Write ``table`` with ``stamp`` as JSON under the schema key ``b"relsearch"``, atomically;
    return the file's record."""
    metadata = dict(table.schema.metadata or {})
    metadata[PARQUET_METADATA_KEY] = json.dumps(stamp, ensure_ascii=False).encode("utf-8")
    table = table.replace_schema_metadata(metadata)
    with atomic_write(path, needed=table.nbytes) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE, compression="zstd")
        record = file_record(tmp)
    return record


def read_pairs(path: Path, record: FileRecord | None = None, *, name: str = PAIRS_FILE) -> pa.Table:
    """The whole pairs table (id, head, tail, metadata), checked against ``record`` if given.

    The file is hashed first, then read by pyarrow from its path (pyarrow reading from a
    Python buffer made some processes abort at exit).
    """
    if not path.is_file():
        raise DamagedFileError(name, "is missing")
    check_file(path, record, name)
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DamagedFileError(name, f"is not a readable Parquet file ({short(exc)})") from None


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The relsearch metadata of a pairs file, or None if it has none or cannot be read."""
    try:
        metadata = pq.read_schema(path).metadata or {}
        return json.loads(metadata[PARQUET_METADATA_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None


def schema_info(table: pa.Table) -> dict[str, Any]:
    """The stamp of a table read from ``pairs.parquet`` ({} if it has none)."""
    raw = (table.schema.metadata or {}).get(PARQUET_METADATA_KEY)
    try:
        info = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def stamp_matches(path: Path, input_fingerprint: str, encoder_fingerprint: str | None) -> bool:
    """True if ``path`` was written for this input and encoder (a build resumes from it)."""
    stamp = read_stamp(path) or {}
    return (stamp.get("input") or {}).get("fingerprint") == input_fingerprint and stamp.get(
        "encoder_fingerprint"
    ) == encoder_fingerprint
