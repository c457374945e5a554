"""Index type from pair count and memory budget; budget parsing; forced factory strings."""

from __future__ import annotations

import pytest

from index_builder.index_choice import (
    FLAT_MAX_PAIRS,
    choose_nlist,
    format_bytes,
    parse_memory,
    plan_index,
)
from relsearch.errors import RelsearchError

G = 1 << 30


def test_parse_memory():
    assert parse_memory("8G") == 8 * G
    assert parse_memory("512m") == 512 << 20
    assert parse_memory("1.5GB") == int(1.5 * G)
    assert parse_memory("2GiB") == 2 * G
    assert parse_memory(1000) == 1000
    assert parse_memory(None) == 8 * G
    for bad in ("lots", "8X", "-1G", "0"):
        with pytest.raises(RelsearchError, match="memory budget"):
            parse_memory(bad)
    assert format_bytes(1536) == "1.5 KiB"


def test_small_collections_are_exact():
    plan = plan_index(10_000, 768, 8 * G)
    assert plan.factory == "Flat" and plan.train_size == 0 and plan.index_bytes == 10_000 * 768 * 4
    assert plan_index(FLAT_MAX_PAIRS, 768, 8 * G).factory == "Flat"


def test_large_collections_use_ivf_sq8_then_pq_as_the_budget_shrinks():
    n = 1_000_000
    sq8 = plan_index(n, 768, 8 * G)
    assert sq8.factory == "IVF2048,SQ8" and sq8.nlist == 2048
    assert 40 * 2048 <= sq8.train_size <= 100_000
    assert sq8.index_bytes <= 8 * G
    pq = plan_index(n, 768, 300 << 20)
    assert pq.factory.startswith("IVF2048,PQ") and pq.index_bytes <= 300 << 20
    m = int(pq.factory.split("PQ")[1])
    assert 768 % m == 0 and m < 768
    smaller = plan_index(n, 768, 100 << 20)
    assert int(smaller.factory.split("PQ")[1]) < m


def test_budget_too_small_for_exact_search_of_a_mid_size_collection():
    plan = plan_index(150_000, 768, 200 << 20)
    assert plan.factory.startswith("IVF") and plan.index_bytes <= 200 << 20
    assert plan_index(150_000, 768, 8 * G).factory == "Flat"


def test_tiny_collections_skip_the_inverted_file():
    assert choose_nlist(500) is None
    assert plan_index(500, 64, 10_000).factory in ("SQ8", "PQ32", "PQ16", "PQ8")


def test_nothing_fits():
    with pytest.raises(RelsearchError, match=r"no index of 10,000,000 vectors fits.*raise --memory-budget"):
        plan_index(10_000_000, 768, 50 << 20)


def test_forced_keys():
    plan = plan_index(5_000, 32, 8 * G, index_key="IVF64,PQ8")
    assert plan.factory == "IVF64,PQ8" and plan.nlist == 64 and plan.train_size > 0
    assert plan_index(5_000, 32, 8 * G, index_key="HNSW16").train_size == 0
    with pytest.raises(RelsearchError, match="invalid --index-key 'Bogus'"):
        plan_index(5_000, 32, 8 * G, index_key="Bogus")
    with pytest.raises(RelsearchError, match="IDMap is not supported"):
        plan_index(5_000, 32, 8 * G, index_key="IDMap,Flat")
