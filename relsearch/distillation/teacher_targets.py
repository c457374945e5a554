"""The teacher's labels: the prompt vectors of the distillation pairs, read from its index build.

The teacher encodes the distillation pairs with ``relsearch build-index`` into an ordinary,
resumable index. A hybrid vector is ``[sqrt(1-w) * prompt, sqrt(w) * word offset]`` (see
``RelationEncoder._hybrid``), so the first ``dim - word_dim`` columns of each stored row,
re-normalised, are the teacher's unit prompt vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relsearch.errors import IndexFormatError
from relsearch.pairs import Pair


@dataclass
class TeacherTargets:
    """Pairs in index order and their teacher prompt vectors (float16 unit rows)."""

    pairs: list[Pair]
    vectors: np.ndarray
    encoder: dict[str, Any]


def prompt_width(encoder: dict[str, Any], word_dim: int | None) -> int:
    """Columns of a stored vector that hold the prompt part."""
    dim = int(encoder["dim"])
    if not float(encoder.get("word_weight") or 0.0):
        return dim
    if word_dim is None:
        raise IndexFormatError("the teacher index is hybrid but records no word-vector width")
    return dim - int(word_dim)


def read_teacher_targets(index_dir: Path) -> TeacherTargets:
    """Load a finished teacher index's pairs and prompt vectors (one shard in memory at a time)."""
    from relsearch.index.relation_index import RelationIndex

    index = RelationIndex.load(index_dir, verify=False)
    encoder = dict(index.manifest["encoder"])
    word_info = index.manifest.get("word_vectors") or {}
    width = prompt_width(encoder, word_info.get("dim") if isinstance(word_info, dict) else None)
    blocks = []
    for block in index.stored.blocks():
        prompt = block[:, :width]
        prompt /= np.maximum(np.linalg.norm(prompt, axis=1, keepdims=True), 1e-12)
        blocks.append(prompt.astype(np.float16))
    pairs = index.table.pairs(np.arange(len(index.table)))
    return TeacherTargets(
        pairs, np.concatenate(blocks) if blocks else np.zeros((0, width), np.float16), encoder
    )
