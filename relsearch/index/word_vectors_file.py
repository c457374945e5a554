"""``word_vectors.parquet``: the single-word vectors of an index's words, as its encoder made them.

Hybrid encoders (``word_weight`` > 0) need ``v(head)`` and ``v(tail)`` for every pair: one more
forward pass per new pair, as long as the prompt's own (about 40 ms at batch size 1 on 2 cores
for MPNet-base). The builder already computed these vectors for every indexed word, so it stores
them; a new pair made of indexed words then costs the prompt pass only. Columns: ``word``
(string) and ``vector`` (fixed-size list of float32, unit norm).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from relsearch.errors import IndexFormatError


def write_word_vectors(path: Path, words: Sequence[str], vectors: np.ndarray) -> int:
    """Write ``words`` and their ``(len(words), dim)`` vectors atomically; return the file size."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(words):
        raise ValueError(f"{len(words)} words but vectors of shape {vectors.shape}")
    dim = vectors.shape[1]
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), type=pa.float32()), dim)
    table = pa.table({"word": pa.array(list(words), type=pa.string()), "vector": column})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path.stat().st_size


def read_word_vectors(path: Path, dim: int) -> tuple[list[str], np.ndarray]:
    """``(words, vectors)`` from ``path``; raise ``IndexFormatError`` if it is unreadable or off."""
    try:
        table = pq.read_table(path, columns=["word", "vector"])
    except (OSError, pa.ArrowException) as exc:
        raise IndexFormatError(f"cannot read {path}: {exc}; rebuild the index") from exc
    vector = table.column("vector").combine_chunks()
    if not pa.types.is_fixed_size_list(vector.type) or vector.type.list_size != dim:
        raise IndexFormatError(f"{path} holds vectors of type {vector.type}, expected {dim} floats each")
    vectors = vector.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return table.column("word").to_pylist(), vectors.reshape(-1, dim)
