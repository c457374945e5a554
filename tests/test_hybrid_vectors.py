"""Hybrid relation vectors: prompt vector + word-vector difference, mixed by word_weight."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relsearch import RelationEncoder, TemplateError

PAIRS = [("barista", "coffee"), ("baker", "bread"), ("king", "queen"), ("dog", "dog")]


def test_hybrid_cosine_is_the_weighted_mix(tiny_model_dir):
    pure = RelationEncoder(tiny_model_dir)
    hybrid = RelationEncoder(tiny_model_dir, word_weight=0.4)
    assert hybrid.dim == 2 * pure.dim
    h = hybrid.encode(PAIRS[:3])
    p = pure.encode(PAIRS[:3])
    words = pure.encode_words(["barista", "coffee", "baker", "bread", "king", "queen"])
    d = np.stack([words[1] - words[0], words[3] - words[2], words[5] - words[4]])
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(h, axis=1), 1.0, atol=1e-5)
    want = 0.6 * (p @ p.T) + 0.4 * (d @ d.T)
    np.testing.assert_allclose(h @ h.T, want, atol=1e-5)


def test_identical_words_give_a_unit_vector(tiny_model_dir):
    vec = RelationEncoder(tiny_model_dir, word_weight=0.5).encode("dog:dog")
    assert np.isclose(np.linalg.norm(vec), 1.0, atol=1e-5)


def test_weight_round_trips_through_config_and_changes_fingerprint(tiny_model_dir, tmp_path):
    hybrid = RelationEncoder(tiny_model_dir, word_weight=0.3)
    saved = hybrid.save(tmp_path / "hybrid")
    block = json.loads((saved / "config.json").read_text())["relbert_config"]
    assert block["word_difference_weight"] == 0.3
    again = RelationEncoder(saved)
    assert again.word_weight == 0.3 and again.fingerprint == hybrid.fingerprint
    np.testing.assert_allclose(again.encode(PAIRS), hybrid.encode(PAIRS), atol=1e-6)
    assert RelationEncoder(tiny_model_dir).fingerprint != hybrid.fingerprint


def test_pure_models_write_no_hybrid_key(tiny_encoder, tmp_path):
    block = json.loads((tiny_encoder.save(tmp_path / "pure") / "config.json").read_text())["relbert_config"]
    assert "word_difference_weight" not in block


@pytest.mark.parametrize("weight", [-0.1, 1.0, 3])
def test_bad_weight_is_rejected(tiny_model_dir, weight):
    with pytest.raises(TemplateError, match="word_difference_weight"):
        RelationEncoder(tiny_model_dir, word_weight=weight)
