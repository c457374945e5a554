"""``StoredFirst``: an encoder that takes the vectors of pairs an index already holds from its
shards, bit for bit, and encodes only the others.

An update rewrites the shards it changes (the last partial shard of an ``add``, every shard
after the first removed pair of a ``remove``); their old rows are copied, never re-encoded,
so they keep their exact float16 values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from index_builder.shards import PairEncoder
from relsearch.index.pair_table import PairTable
from relsearch.index.stored_vectors import StoredVectors
from relsearch.pairs import parse_pair


class StoredFirst:
    """``encode`` = stored rows (float16 as float32) for indexed pairs, ``encoder`` for the rest."""

    def __init__(
        self, table: PairTable, stored: StoredVectors, encoder: PairEncoder | None, describe: dict[str, Any]
    ) -> None:
        self.table, self.stored, self.encoder, self._describe = table, stored, encoder, describe
        self.encoded = 0  # pairs the real encoder encoded

    @property
    def dim(self) -> int:
        return self.stored.dim

    @property
    def fingerprint(self) -> str:
        return str(self._describe.get("fingerprint"))

    def describe(self) -> dict[str, Any]:
        return self._describe

    def encode(self, pairs: Any, *, batch_size: int | None = None) -> np.ndarray:
        parsed = [parse_pair(p) for p in pairs]
        out = np.empty((len(parsed), self.dim), dtype=np.float32)
        ids = [self.table.pair_id(p) for p in parsed]
        size = self.stored.shard_size
        new = []
        for i, idx in enumerate(ids):
            if idx is None:
                new.append(i)
            else:
                out[i] = self.stored.raw(idx // size)[idx % size]
        if new:
            if self.encoder is None:
                raise AssertionError("a pair that is not in the index reached a remove")
            out[new] = self.encoder.encode([parsed[i] for i in new], batch_size=batch_size)
            self.encoded += len(new)
        return out

    def encode_words(self, words: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        if self.encoder is None:
            raise AssertionError("word vectors are not computed during a remove")
        return self.encoder.encode_words(words, batch_size=batch_size)
