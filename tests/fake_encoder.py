"""A seeded fake encoder: deterministic unit vectors from a hash of each pair (or word).

It has what the index builder uses of ``RelationEncoder``: ``encode``, ``encode_words``,
``dim``, ``describe()`` and ``fingerprint``; it counts the pairs it encoded.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from relsearch.pairs import PairLike, parse_pair


def _unit(text: str, dim: int, seed: int, centres: np.ndarray | None = None) -> np.ndarray:
    digest = hashlib.sha256(f"{seed}\x00{text}".encode()).digest()
    vector = np.random.default_rng(int.from_bytes(digest[:8], "little")).standard_normal(dim)
    if centres is not None:  # clustered, like real embeddings: a centre plus noise
        vector = centres[int.from_bytes(digest[8:12], "little") % len(centres)] + 0.35 * vector
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class FakeEncoder:
    """``FakeEncoder(dim=16, seed=0)``; ``word_vectors`` overrides ``encode_words`` per word;
    ``clusters > 0`` draws pair vectors around that many random centres; ``delay`` seconds are
    slept per ``encode`` call (a slow model, for timing-dependent tests; not in the fingerprint)."""

    def __init__(
        self,
        dim: int = 16,
        seed: int = 0,
        word_vectors: dict[str, Sequence[float]] | None = None,
        clusters: int = 0,
        delay: float = 0.0,
    ) -> None:
        self._dim, self.seed, self.delay = dim, seed, delay
        self.word_vectors = word_vectors or {}
        self.pairs_encoded = 0
        rng = np.random.default_rng(seed)
        self._centres = rng.standard_normal((clusters, dim)) if clusters else None

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        clusters = 0 if self._centres is None else len(self._centres)
        return hashlib.sha256(f"fake|{self._dim}|{self.seed}|{clusters}".encode()).hexdigest()[:32]

    def describe(self) -> dict[str, Any]:
        return {"model": f"fake-seed{self.seed}", "dim": self._dim, "fingerprint": self.fingerprint}

    def encode(self, pairs: Iterable[PairLike], *, batch_size: int | None = None, **_: Any) -> np.ndarray:
        parsed = [parse_pair(p) for p in pairs]
        self.pairs_encoded += len(parsed)
        if self.delay:
            time.sleep(self.delay)
        if not parsed:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack([_unit(f"{h}\x00{t}", self._dim, self.seed, self._centres) for h, t in parsed])

    def encode_words(self, words: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        rows = []
        for word in words:
            if word in self.word_vectors:
                v = np.asarray(self.word_vectors[word], dtype=np.float32)
                rows.append(v / np.linalg.norm(v))
            else:
                rows.append(_unit(word, self._dim, self.seed + 1))
        return np.stack(rows).astype(np.float32)
