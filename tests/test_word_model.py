"""Candidate pairs from a delta model come from its base model's word vectors (or as told)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from safetensors.torch import save_file
from tiny_models import build_tiny_model

from index_builder.build import build_index
from index_builder.candidates import knn_pair_ids
from index_builder.word_model import RELATION_MODEL, resolve_word_model
from relsearch import RelationEncoder
from relsearch.errors import ModelLoadError
from relsearch.index.format import read_manifest
from relsearch.templates import TEMPLATES

WORDS = [f"w{i}" for i in range(12)] + ["baker", "bread", "brewer", "beer", "poet", "poem", "cat", "dog"]


@pytest.fixture(scope="module")
def base_and_delta(tmp_path_factory):
    """A tiny base model and a delta directory over it whose top layer is re-randomised."""
    root = tmp_path_factory.mktemp("word-model")
    base = build_tiny_model(root / "base", seed=3)
    delta = root / "delta"
    delta.mkdir()
    config = json.loads((base / "config.json").read_text())
    config["relbert_config"] = {"aggregation_mode": "average_no_mask", "template": TEMPLATES["a"]}
    (delta / "config.json").write_text(json.dumps(config))
    gen = torch.Generator().manual_seed(7)
    state = RelationEncoder(base).model.state_dict()
    top = {k: torch.randn(v.shape, generator=gen) * 0.5 for k, v in state.items() if ".layer.1." in k}
    assert top, "the tiny model has a second layer to change"
    save_file(top, str(delta / "delta.safetensors"))
    (delta / "relsearch_delta.json").write_text(
        json.dumps({"base": str(base.resolve()), "weights": "delta.safetensors"})
    )
    return base, delta


def test_resolve_word_model(base_and_delta, tmp_path):
    base, delta = base_and_delta
    assert resolve_word_model(None, delta) == str(base.resolve())
    assert resolve_word_model(None, base) == RELATION_MODEL
    assert resolve_word_model("relation-model", delta) == RELATION_MODEL
    assert resolve_word_model(str(delta), base) == str(delta.resolve())
    assert resolve_word_model(None, None, encoder=object()) == RELATION_MODEL
    with pytest.raises(ModelLoadError, match="does not exist"):
        resolve_word_model(str(tmp_path / "missing"), delta)
    broken = tmp_path / "broken"
    shutil.copytree(delta, broken)
    (broken / "relsearch_delta.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="names no base model"):
        resolve_word_model(None, broken)


def _pairs(out) -> set[tuple[str, str]]:
    table = pq.read_table(out / "pairs.parquet", columns=["head", "tail"])
    return set(zip(table.column("head").to_pylist(), table.column("tail").to_pylist(), strict=True))


def _expected(vectors: np.ndarray) -> set[tuple[str, str]]:
    heads, tails = knn_pair_ids(vectors, 2)
    return {(WORDS[h], WORDS[t]) for h, t in zip(heads, tails, strict=True)}


def test_delta_model_builds_candidates_from_its_base(base_and_delta, tmp_path):
    base, delta = base_and_delta
    common = dict(vocab=WORDS, model=str(delta), k=2, shard_size=64, dtype="float32")
    build_index(tmp_path / "default", **common)
    build_index(tmp_path / "own", word_model="relation-model", **common)

    from_base = _expected(RelationEncoder(base).encode_words(WORDS))
    from_delta = _expected(RelationEncoder(delta).encode_words(WORDS))
    assert from_base != from_delta  # the two signals really differ, so the check below can fail
    assert _pairs(tmp_path / "default") == from_base
    assert _pairs(tmp_path / "own") == from_delta

    info = read_manifest(tmp_path / "default")["input"]
    assert info["word_model"] == str(base.resolve()) and str(base.resolve()) in info["candidates"]
    own = read_manifest(tmp_path / "own")["input"]
    assert own["word_model"] == RELATION_MODEL and own["fingerprint"] != info["fingerprint"]


def test_use_word_model_switches_word_vectors_and_fingerprint(base_and_delta):
    base, delta = base_and_delta
    enc = RelationEncoder(delta, word_weight=0.5)
    own_words, own_print = enc.encode_words(WORDS[:6]), enc.fingerprint
    base_words = RelationEncoder(base).encode_words(WORDS[:6])
    assert not np.allclose(own_words, base_words, atol=1e-3)  # the delta changed the word vectors
    own_pairs = enc.encode([("baker", "bread"), ("poet", "poem")])
    enc.use_word_model(str(base))
    assert enc.word_model == str(base) and enc.fingerprint != own_print
    np.testing.assert_allclose(enc.encode_words(WORDS[:6]), base_words, atol=1e-5)
    assert not np.allclose(enc.encode([("baker", "bread"), ("poet", "poem")]), own_pairs, atol=1e-3)
    enc.use_word_model(None)
    assert enc.word_model is None and enc.fingerprint == own_print
    np.testing.assert_allclose(enc.encode([("baker", "bread"), ("poet", "poem")]), own_pairs, atol=1e-6)
