"""Session fixtures: small real indexes (Flat over tiny-model vectors, IVF over seeded vectors)."""

from __future__ import annotations

from pathlib import Path

import pytest
from index_factory import WORDS, clustered_vectors, encoded_index, synthetic_pairs, write_index

__all__ = ["index_encoder", "index_model_dir", "ivf_index", "tiny_index"]

#: The tiny index holds every ordered pair of WORDS except those with head "kitten".
NO_HEAD = "kitten"


def tiny_pairs() -> list[tuple[str, str]]:
    return [(h, t) for h in WORDS for t in WORDS if h != t and h != NO_HEAD]


@pytest.fixture(scope="session")
def index_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """The tiny model re-saved with its pooler layer.

    ``RelationEncoder.fingerprint`` hashes every tensor, including the pooler that ``AutoModel``
    initialises at random when a checkpoint has none (as the tiny model does); such a model gets
    a new fingerprint on every load and an index built with it refuses to encode new pairs.
    """
    from transformers import AutoModel, AutoTokenizer

    target = tmp_path_factory.mktemp("pooled") / "model"
    AutoModel.from_pretrained(tiny_model_dir).save_pretrained(target)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(target)
    return target


@pytest.fixture(scope="session")
def index_encoder(index_model_dir: Path):
    from relsearch import RelationEncoder

    encoder = RelationEncoder(index_model_dir)
    assert encoder.fingerprint  # cache it before any encode() changes the tokenizer's state
    return encoder


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory, index_encoder) -> Path:
    """Flat index, 441 pairs in 5 shards, vectors from the tiny model, two metadata columns."""
    pairs = tiny_pairs()
    metadata = {"source": ["words"] * len(pairs), "weight": [float(i % 7) for i in range(len(pairs))]}
    return encoded_index(
        tmp_path_factory.mktemp("idx") / "tiny", index_encoder, pairs, shard_size=100, metadata=metadata
    )


@pytest.fixture(scope="session")
def ivf_index(tmp_path_factory: pytest.TempPathFactory, index_encoder) -> Path:
    """IVF16,Flat with nprobe 2 over 3000 seeded vectors of the tiny model's dimension."""
    pairs = synthetic_pairs(120, 3000, seed=1)
    vectors = clustered_vectors(len(pairs), index_encoder.dim, clusters=16, seed=1)
    return write_index(
        tmp_path_factory.mktemp("idx") / "ivf",
        pairs,
        vectors,
        index_encoder.describe(),
        factory="IVF16,Flat",
        shard_size=1024,
        search_params={"nprobe": 2},
    )
