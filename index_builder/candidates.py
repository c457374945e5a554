"""Candidate pairs from a vocabulary: each word's k most related words, in both directions.

The relatedness signal is the cosine similarity of single-word vectors (the encoder's own
transformer, mean-pooled over the word alone; see ``RelationEncoder.encode_words``), searched
exactly with a FAISS inner-product index. Related pairs such as baker/bread or brewer/beer are
close in that space, so N words give at most ``2 * k * N`` ordered pairs instead of ``N**2``.
"""

from __future__ import annotations

import numpy as np

from relsearch.errors import RelsearchError

#: ``--all-pairs`` refuses vocabularies whose ordered pairs exceed this (about 1,000 words).
MAX_ALL_PAIRS = 1_000_000


def nearest_neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    """``(n, k)`` indices of each row's k nearest other rows by inner product (best first)."""
    import faiss

    n = len(vectors)
    k = min(k, n - 1)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    _, found = index.search(np.ascontiguousarray(vectors, dtype=np.float32), min(k + 1, n))
    out = np.empty((n, k), dtype=np.int64)
    for i, row in enumerate(found):
        others = row[(row != i) & (row >= 0)]
        out[i] = others[:k]
    return out


def knn_pair_ids(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Ordered ``(head, tail)`` index arrays: every word with its k neighbours, both directions.

    No self pairs, no duplicates; sorted by head index, then tail index.
    """
    if k < 1:
        raise RelsearchError(f"--k must be at least 1, got {k}")
    n = len(vectors)
    neighbours = nearest_neighbours(vectors, k)
    heads = np.repeat(np.arange(n, dtype=np.int64), neighbours.shape[1])
    tails = neighbours.reshape(-1)
    codes = np.unique(np.concatenate([heads * n + tails, tails * n + heads]))
    return codes // n, codes % n


def all_pair_ids(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair of distinct words, refused above ``MAX_ALL_PAIRS``."""
    count = n * (n - 1)
    if count > MAX_ALL_PAIRS:
        raise RelsearchError(
            f"--all-pairs on {n:,} words gives {count:,} ordered pairs, above the limit of "
            f"{MAX_ALL_PAIRS:,} (about 1,000 words); use nearest-neighbour candidates (--k) "
            "or pass explicit pairs with --pairs"
        )
    heads, tails = np.divmod(np.arange(n * n, dtype=np.int64), n)
    keep = heads != tails
    return heads[keep], tails[keep]
