"""Lexical relation classification: the MLP pipeline on synthetic data, subsampling, the vector cache."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from relsearch.errors import RelsearchError
from relsearch.evaluation.classification import evaluate_classification, require_sklearn
from relsearch.evaluation.lexical_relations import LabeledPairs, LexicalRelationData, subsample_train
from relsearch.evaluation.vector_cache import cached_encode, vector_cache_dir

LABELS = ("hyper", "mero", "random")


def _split(start: int, n: int, rng: np.random.Generator) -> LabeledPairs:
    pairs = tuple((f"h{i}", f"t{i}") for i in range(start, start + n))
    return LabeledPairs(pairs, tuple(str(x) for x in rng.choice(LABELS, size=n)))


def _synthetic(with_val: bool = True) -> tuple[LexicalRelationData, dict[tuple[str, str], str]]:
    rng = np.random.default_rng(1)
    train, val, test = _split(0, 240, rng), _split(240, 60, rng), _split(300, 120, rng)
    data = LexicalRelationData("synthetic", train=train, val=val if with_val else None, test=test)
    truth = {p: label for s in (train, val, test) for p, label in zip(s.pairs, s.labels, strict=True)}
    return data, truth


class LabelEncoder:
    """Vectors that reveal each forward pair's true label (cluster centre + noise)."""

    def __init__(self, truth: dict[tuple[str, str], str], dim: int = 8) -> None:
        rng = np.random.default_rng(7)
        self.centres = {label: rng.normal(size=dim) * 3 for label in LABELS}
        self.truth = truth
        self.dim = dim
        self.calls = 0

    def __call__(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        self.calls += 1
        out = []
        for head, tail in pairs:
            seed = int.from_bytes(f"{head}|{tail}".encode()[-8:].ljust(8, b"\0"), "little")
            noise = np.random.default_rng(seed).normal(size=self.dim)
            label = self.truth.get((head, tail)) or self.truth[(tail, head)]
            sign = 1.0 if (head, tail) in self.truth else -1.0
            out.append(sign * self.centres[label] + noise)
        return np.array(out, dtype=np.float32)


def test_learnable_labels_reach_high_f1():
    data, truth = _synthetic()
    result = evaluate_classification(data, LabelEncoder(truth), grid="small", seed=0)
    assert result.f1_micro > 0.9 and result.f1_macro > 0.9
    assert (result.n_train, result.n_val, result.n_test) == (240, 60, 120)
    assert result.validation == "val" and not result.train_subsampled
    assert len(result.search) == 2 and result.best_config in [
        {k: v for k, v in s.items() if not k.startswith("val_")} for s in result.search
    ]
    assert set(result.f1_by_label) == set(LABELS)


def test_shuffled_labels_stay_near_chance():
    data, truth = _synthetic()
    rng = np.random.default_rng(3)

    def shuffled(split: LabeledPairs) -> LabeledPairs:
        return LabeledPairs(split.pairs, tuple(rng.permutation(split.labels)))

    assert data.val is not None
    noise = LexicalRelationData("shuffled", shuffled(data.train), shuffled(data.test), shuffled(data.val))
    result = evaluate_classification(noise, LabelEncoder(truth), grid="small", seed=0)
    assert result.f1_micro < 0.6


def test_without_val_tunes_on_a_seeded_holdout_and_refits():
    data, truth = _synthetic(with_val=False)
    first = evaluate_classification(data, LabelEncoder(truth), grid="small", seed=5)
    again = evaluate_classification(data, LabelEncoder(truth), grid="small", seed=5)
    assert first.validation.startswith("holdout") and first.n_val == 24 and first.n_train == 240
    assert first.f1_micro > 0.9 and first.to_dict() == again.to_dict()


def test_subsample_is_seeded_and_reported():
    data, truth = _synthetic()
    small = subsample_train(data, 100, seed=0)
    assert len(small.train) == 100 and small.train_available == 240 and small.subsampled
    assert small.train == subsample_train(data, 100, seed=0).train
    assert small.train != subsample_train(data, 100, seed=1).train
    assert set(small.train.pairs) <= set(data.train.pairs)
    assert not subsample_train(data, 1000, seed=0).subsampled
    result = evaluate_classification(small, LabelEncoder(truth), grid="small")
    d = result.to_dict()
    assert d["n_train"] == 100 and d["n_train_available"] == 240 and d["train_subsampled"] is True


def test_missing_sklearn_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(RelsearchError, match=r"relsearch\[eval\]"):
        require_sklearn()


# -- the vector cache --------------------------------------------------------------------------
def test_cache_encodes_each_pair_once_and_returns_float16_values(tmp_path, monkeypatch):
    monkeypatch.setenv("RELSEARCH_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    table = {(f"a{i}", f"b{i}"): rng.normal(size=4).astype(np.float32) for i in range(50)}
    seen: list[tuple[str, str]] = []

    def encode(pairs):
        seen.extend(pairs)
        return np.stack([table[p] for p in pairs])

    pairs = list(table)
    first = cached_encode(pairs[:30], encode, "k1", chunk_size=8)
    assert seen == pairs[:30]
    np.testing.assert_array_equal(first, np.stack([table[p] for p in pairs[:30]]).astype(np.float16))
    assert len(list(vector_cache_dir("k1").glob("*.npy"))) == 4  # chunks of 8 written as they finish

    wider = cached_encode(pairs[::-1], encode, "k1", chunk_size=8)  # only the 20 new pairs
    assert seen[30:] == pairs[30:][::-1] and len(seen) == 50
    np.testing.assert_array_equal(wider[::-1][:30], first)
    assert cached_encode(pairs, encode, "k1").shape == (50, 4) and len(seen) == 50
    assert not [p for p in vector_cache_dir("k1").iterdir() if p.name.startswith(".")]

    cached_encode(pairs[:3], encode, "k2")  # another key (model) shares nothing
    assert len(seen) == 53


def test_cache_ignores_a_shard_without_its_pair_list(tmp_path, monkeypatch):
    monkeypatch.setenv("RELSEARCH_CACHE", str(tmp_path))
    calls = []

    def encode(pairs):
        calls.append(len(pairs))
        return np.ones((len(pairs), 3), dtype=np.float32)

    cached_encode([("x", "y"), ("y", "x")], encode, "k")
    for js in vector_cache_dir("k").glob("*.json"):
        js.unlink()
    cached_encode([("x", "y")], encode, "k")
    assert calls == [2, 1]
