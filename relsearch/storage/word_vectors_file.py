"""``word_vectors.parquet``: the single-word vectors of an index's words, as its encoder made them.

Hybrid encoders (``word_weight`` > 0) need ``v(head)`` and ``v(tail)`` for every pair: one more
forward pass per new pair, as long as the prompt's own (about 40 ms at batch size 1 on 2 cores
for MPNet-base). The builder already computed these vectors for every indexed word, so it stores
them; a new pair made of indexed words then costs the prompt pass only. Columns: ``word``
(string) and ``vector`` (fixed-size list of float32, unit norm).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from relsearch.errors import DamagedFileError
from relsearch.storage.atomic import atomic_write
from relsearch.storage.checksums import FileRecord, check_file, file_record, short
from relsearch.storage.layout import WORD_VECTORS_FILE


def write_word_vectors(path: Path, words: Sequence[str], vectors: np.ndarray) -> FileRecord:
    """Write ``words`` and their ``(len(words), dim)`` vectors atomically; return the file's record."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(words):
        raise ValueError(f"{len(words)} words but vectors of shape {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError("word vectors hold non-finite values (NaN or inf)")
    dim = vectors.shape[1]
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), type=pa.float32()), dim)
    table = pa.table({"word": pa.array(list(words), type=pa.string()), "vector": column})
    with atomic_write(path, needed=vectors.nbytes) as tmp:
        pq.write_table(table, tmp, compression="zstd")
        record = file_record(tmp)
    return record


def read_word_vectors(path: Path, dim: int, record: FileRecord | None = None) -> tuple[list[str], np.ndarray]:
    """``(words, vectors)`` from ``path``, checked against ``record``; ``DamagedFileError`` if off."""
    name = WORD_VECTORS_FILE
    if not path.is_file():
        raise DamagedFileError(name, "is missing")
    check_file(path, record, name)  # then pyarrow reads the path (see pairs_parquet.read_pairs)
    try:
        table = pq.read_table(path, columns=["word", "vector"])
    except (OSError, pa.ArrowException) as exc:
        raise DamagedFileError(name, f"is not a readable Parquet file ({short(exc)})") from None
    vector = table.column("vector").combine_chunks()
    if not pa.types.is_fixed_size_list(vector.type) or vector.type.list_size != dim:
        raise DamagedFileError(name, f"holds vectors of type {vector.type}, expected {dim} floats each")
    vectors = vector.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    if not np.isfinite(vectors).all():
        raise DamagedFileError(name, "holds non-finite values (NaN or inf)")
    return table.column("word").to_pylist(), vectors.reshape(-1, dim)
