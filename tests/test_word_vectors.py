"""Single-word vectors: the relatedness signal behind candidate pairs."""

from __future__ import annotations

import numpy as np

WORDS = ["barista", "coffee", "baker", "bread", "ice cream", "crème brûlée", "dog"]


def test_word_vectors_are_unit_and_independent_of_batching(tiny_encoder):
    full = tiny_encoder.encode_words(WORDS)
    assert full.shape == (len(WORDS), tiny_encoder.dim) and full.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-5)
    reordered = tiny_encoder.encode_words(WORDS[::-1], batch_size=2)
    np.testing.assert_allclose(reordered[::-1], full, atol=2e-5)
    assert tiny_encoder.encode_words([]).shape == (0, tiny_encoder.dim)
    assert not np.allclose(full[0], full[1])
