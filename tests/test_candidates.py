"""Candidate pairs: k nearest words in both directions, no self pairs, no duplicates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index_builder.candidates import MAX_ALL_PAIRS, all_pair_ids, knn_pair_ids, nearest_neighbours
from relsearch.errors import RelsearchError


def unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 40), k=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_knn_pairs_properties(n, k, seed):
    vectors = unit_rows(n, 8, seed)
    heads, tails = knn_pair_ids(vectors, k)
    pairs = list(zip(heads.tolist(), tails.tolist(), strict=True))
    assert all(h != t for h, t in pairs)  # no self pairs
    assert len(set(pairs)) == len(pairs)  # no duplicates
    assert set(pairs) == {(t, h) for h, t in pairs}  # both directions
    assert pairs == sorted(pairs)  # deterministic order
    kk = min(k, n - 1)
    # every word keeps its kk nearest neighbours as tails ...
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for i in range(n):
        best = set(np.argsort(-sims[i], kind="stable")[:kk].tolist())
        assert best <= {t for h, t in pairs if h == i} | {h for h, t in pairs if t == i}
    # ... and no more pairs than the k-nearest relation in both directions allows
    assert len(pairs) <= 2 * kk * n


def test_k_is_respected_exactly_on_a_line():
    # points on an arc with growing gaps: each point's nearest is the one before it
    angles = np.cumsum(np.arange(10) * 0.01)
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    assert nearest_neighbours(vectors, 1)[:, 0].tolist() == [1, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    heads, tails = knn_pair_ids(vectors, 1)
    assert set(zip(heads.tolist(), tails.tolist(), strict=True)) == {(i, i + 1) for i in range(9)} | {
        (i + 1, i) for i in range(9)
    }


def test_k_must_be_positive():
    with pytest.raises(RelsearchError, match="at least 1"):
        knn_pair_ids(unit_rows(3, 4, 0), 0)


def test_all_pairs_and_its_limit():
    heads, tails = all_pair_ids(4)
    assert len(heads) == 12 and not np.any(heads == tails)
    assert len(set(zip(heads.tolist(), tails.tolist(), strict=True))) == 12
    with pytest.raises(RelsearchError, match=r"1,001 words gives 1,001,000 ordered pairs.*1,000,000"):
        all_pair_ids(1001)
    assert MAX_ALL_PAIRS >= 1000 * 999
