"""An index's pairs and stored vectors in id order, a bounded chunk at a time."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from relsearch.index.relation_index import RelationIndex
from relsearch.pairs import Pair

#: Pairs per chunk: 8,192 rows of a 1,536-dim model are 48 MB of float32.
CHUNK = 8192


def vector_chunks(index: RelationIndex, chunk: int = CHUNK) -> Iterator[tuple[int, list[Pair], np.ndarray]]:
    """``(first id, pairs, unit float32 vectors)`` for ids ``0 .. len(index) - 1``."""
    for start in range(0, len(index), chunk):
        ids = np.arange(start, min(start + chunk, len(index)), dtype=np.int64)
        yield start, index.table.pairs(ids), index.stored.get(ids)
