"""Word vectors computed once per word: hybrid vectors need ``v(tail) - v(head)`` for every pair.

A build encodes each word in thousands of pairs; without a cache every shard recomputed the
vectors of all its words (a third of the encoding time of the default model at int8). The cache
holds what the model gave at first use: an encoder whose weights change afterwards must clear it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np


class WordVectorCache:
    """``get(words)`` -> ``(len(words), dim)`` float32 rows, computing only unseen words (LRU)."""

    def __init__(self, compute: Callable[[list[str]], np.ndarray], max_words: int = 250_000) -> None:
        self.compute, self.max_words = compute, max_words
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()

    def put(self, words: Sequence[str], vectors: np.ndarray) -> None:
        """Store precomputed rows (one per word) as if ``compute`` had returned them."""
        if len(words) != len(vectors):
            raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
        for word, row in zip(words, vectors, strict=True):
            self._rows[word] = np.array(row, dtype=np.float32)
            self._rows.move_to_end(word)
        self._evict()

    def _evict(self) -> None:
        """Drop the least recently used rows beyond ``max_words``."""
        while len(self._rows) > self.max_words:
            self._rows.popitem(last=False)

    def get(self, words: Sequence[str]) -> np.ndarray:
        missing = [w for w in dict.fromkeys(words) if w not in self._rows]
        if missing:
            for word, row in zip(missing, self.compute(missing), strict=True):
                self._rows[word] = np.array(row, dtype=np.float32)
        for word in words:
            self._rows.move_to_end(word)
        out = np.stack([self._rows[w] for w in words]) if words else np.zeros((0, 0), dtype=np.float32)
        self._evict()
        return out
