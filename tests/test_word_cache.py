"""The word-vector cache behind hybrid vectors: computes each word once, same vectors as without it."""

from __future__ import annotations

import numpy as np

from relsearch import RelationEncoder
from relsearch.encoding.word_cache import WordVectorCache


def test_cache_computes_unseen_words_only_and_evicts_oldest():
    calls: list[list[str]] = []

    def rows(words: list[str]) -> np.ndarray:
        return np.array([[len(w), ord(w[0])] for w in words], dtype=np.float32)

    def compute(words: list[str]) -> np.ndarray:
        calls.append(list(words))
        return rows(words)

    cache = WordVectorCache(compute, max_words=3)
    np.testing.assert_array_equal(cache.get(["ab", "c", "ab"]), rows(["ab", "c", "ab"]))
    cache.get(["c", "def"])
    assert calls[:2] == [["ab", "c"], ["def"]]
    cache.get(["xy"])  # 4 words > 3: "ab" (least recently used) goes
    assert len(cache) == 3
    cache.get(["ab"])
    assert calls[-1] == ["ab"]


def test_hybrid_vectors_do_not_depend_on_the_cache(tiny_model_dir):
    pairs = [("king", "queen"), ("man", "woman"), ("dog", "puppy"), ("queen", "man")]
    enc = RelationEncoder(tiny_model_dir, word_weight=0.4)
    first = enc.encode(pairs)
    assert len(enc._word_cache) == 6
    again = enc.encode(pairs[::-1])[::-1]
    fresh = RelationEncoder(tiny_model_dir, word_weight=0.4).encode(pairs[2:])
    np.testing.assert_allclose(again, first, atol=1e-6)
    np.testing.assert_allclose(fresh, first[2:], atol=2e-5)
