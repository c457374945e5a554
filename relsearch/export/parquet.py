"""Pair vectors as a Parquet table ``head, tail, vector`` (row ``i`` is the index's pair id ``i``).

``vector`` is a fixed-size list of ``dim`` float32 (unit norm): pandas reads it as one numpy array
per row, duckdb as ``FLOAT[dim]``. The schema carries relsearch's description under the key
``relsearch`` (model, fingerprint, dim, pairs), so the file explains itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from relsearch import __version__
from relsearch.export.output_file import check_output, replaced_on_success
from relsearch.export.report import ExportReport
from relsearch.export.vector_chunks import CHUNK, vector_chunks
from relsearch.index.format import PARQUET_METADATA_KEY
from relsearch.index.relation_index import RelationIndex
from relsearch.progress import progress_bar


def vectors_schema(index: RelationIndex) -> pa.Schema:
    """The table's schema, with relsearch's description stamped in its metadata."""
    encoder = index.manifest.get("encoder") or {}
    about = {
        "kind": "relsearch-pair-vectors",
        "model": encoder.get("model"),
        "fingerprint": encoder.get("fingerprint"),
        "dim": index.dim,
        "pairs": len(index),
        "relsearch": __version__,
    }
    schema = pa.schema(
        [
            pa.field("head", pa.string(), nullable=False),
            pa.field("tail", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), index.dim), nullable=False),
        ]
    )
    return schema.with_metadata({PARQUET_METADATA_KEY: json.dumps(about).encode()})


def export_parquet(
    index: RelationIndex, out: str | Path, *, overwrite: bool = False, progress: bool = False
) -> ExportReport:
    """Write every pair of ``index`` with its vector to ``out``, one row group per chunk."""
    out = Path(out)
    check_output(out, overwrite)
    schema = vectors_schema(index)
    with (
        replaced_on_success(out) as tmp,
        progress_bar(len(index), f"exporting {out.name}", enabled=progress) as advance,
        pq.ParquetWriter(tmp, schema) as writer,
    ):
        for _start, pairs, vectors in vector_chunks(index, CHUNK):
            flat = pa.array(vectors.reshape(-1), type=pa.float32())
            columns = [
                pa.array([h for h, _ in pairs], pa.string()),
                pa.array([t for _, t in pairs], pa.string()),
                pa.FixedSizeListArray.from_arrays(flat, index.dim),
            ]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            advance(len(pairs))
    return ExportReport(out, "parquet", len(index), index.dim)
