"""Filtered search is exact on Flat and keeps its filters on IVF, whatever the include/exclude sets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_fixtures import *  # noqa: F403  (fixtures)

from relsearch import RelationIndex
from relsearch.index import faiss_search
from relsearch.index.filters import IdFilter

ids_strategy = st.lists(st.integers(0, 440), max_size=80)


@pytest.fixture(scope="module")
def flat(tiny_index) -> RelationIndex:
    return RelationIndex.load(tiny_index)


@pytest.fixture(scope="module")
def ivf(ivf_index) -> RelationIndex:
    return RelationIndex.load(ivf_index)


def query_vector(seed: int, dim: int) -> np.ndarray:
    vec = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vec / np.linalg.norm(vec)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 30),
    include=st.none() | ids_strategy,
    exclude=ids_strategy,
    via_selector=st.booleans(),
)
def test_flat_filtered_search_is_exact(flat, monkeypatch, seed, k, include, exclude, via_selector):
    if via_selector:  # route through FAISS IDSelectors instead of exact scoring / over-fetching
        monkeypatch.setattr(faiss_search, "EXACT_LIMIT", -1)
        monkeypatch.setattr(faiss_search, "OVERFETCH_LIMIT", -1)
    query = query_vector(seed, flat.dim)
    flt = IdFilter.make(None if include is None else np.array(include, dtype=np.int64), np.array(exclude))
    ((ids, scores),) = flat._search.search(query[None], k, [flt])
    allowed = np.zeros(len(flat), bool)
    allowed[include if include is not None else slice(None)] = True
    allowed[exclude] = False
    all_scores = flat.stored.get(np.arange(len(flat))) @ query
    expected = np.sort(all_scores[allowed])[::-1][:k]
    assert len(ids) == min(k, allowed.sum())
    assert allowed[ids].all()
    np.testing.assert_allclose(scores, expected, atol=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 25),
    include=st.none() | st.lists(st.integers(0, 2999), max_size=60),
    exclude=st.lists(st.integers(0, 2999), max_size=300),
    limits=st.sampled_from([None, -1]),
)
def test_ivf_filtered_search_keeps_filters_and_count(ivf, monkeypatch, seed, k, include, exclude, limits):
    if limits is not None:
        monkeypatch.setattr(faiss_search, "EXACT_LIMIT", limits)
        monkeypatch.setattr(faiss_search, "OVERFETCH_LIMIT", limits)
    query = query_vector(seed, ivf.dim)
    flt = IdFilter.make(None if include is None else np.array(include, dtype=np.int64), np.array(exclude))
    ((ids, scores),) = ivf._search.search(query[None], k, [flt])
    allowed = np.zeros(len(ivf), bool)
    allowed[include if include is not None else slice(None)] = True
    allowed[exclude] = False
    assert len(ids) == min(k, allowed.sum())
    assert len(set(ids.tolist())) == len(ids) and allowed[ids].all()
    np.testing.assert_allclose(scores, ivf.stored.get(ids) @ query, atol=1e-6)
    assert np.all(np.diff(scores) <= 1e-7)
