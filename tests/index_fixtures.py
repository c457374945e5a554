"""Session fixtures: small real indexes (Flat over tiny-model vectors, IVF over seeded vectors)."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_factory import WORDS, clustered_vectors, encoded_index, synthetic_pairs, write_index

__all__ = ["ivf_index", "tiny_index"]

#: The tiny index holds every ordered pair of WORDS except those with head "kitten".
NO_HEAD = "kitten"


def tiny_pairs() -> list[tuple[str, str]]:
    return [(h, t) for h in WORDS for t in WORDS if h != t and h != NO_HEAD]


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory, tiny_encoder) -> Path:
    """Flat index, 441 pairs in 5 shards, vectors from the tiny model, two metadata columns."""
    pairs = tiny_pairs()
    metadata = {"source": ["words"] * len(pairs), "weight": [float(i % 7) for i in range(len(pairs))]}
    return encoded_index(
        tmp_path_factory.mktemp("idx") / "tiny", tiny_encoder, pairs, shard_size=100, metadata=metadata
    )


@pytest.fixture(scope="session")
def ivf_index(tmp_path_factory: pytest.TempPathFactory, tiny_encoder) -> Path:
    """IVF16,Flat with nprobe 2 over 3000 seeded vectors of the tiny model's dimension."""
    pairs = synthetic_pairs(120, 3000, seed=1)
    vectors = clustered_vectors(len(pairs), tiny_encoder.dim, clusters=16, seed=1)
    return write_index(
        tmp_path_factory.mktemp("idx") / "ivf",
        pairs,
        vectors,
        tiny_encoder.describe(),
        factory="IVF16,Flat",
        shard_size=1024,
        search_params={"nprobe": 2},
    )
