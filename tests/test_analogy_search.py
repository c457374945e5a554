"""Analogies by index lookup, on the fly, and multiple choice."""

from __future__ import annotations

import numpy as np
import pytest
from index_fixtures import *  # noqa: F403  (fixtures)
from index_fixtures import NO_HEAD

from relsearch import RelationIndex
from relsearch.errors import InvalidPairError, RelsearchError
from relsearch.index.analogy_search import parse_target, rank_choices


@pytest.fixture(scope="module")
def index(tiny_index) -> RelationIndex:
    return RelationIndex.load(tiny_index)


def expected(index: RelationIndex, query: np.ndarray, candidates: list[tuple[str, str]], k: int) -> list:
    vectors = index.vectors(candidates)
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [(candidates[i], float(scores[i])) for i in order]


def test_lookup_c(index):
    hits = index.analogy("barista:coffee", c="baker", k=5)
    candidates = [("baker", w) for w in index.words if w not in ("baker", "barista", "coffee")]
    want = expected(index, index.vector("barista:coffee"), candidates, 5)
    assert [h.pair for h in hits] == [p for p, _ in want]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in want], atol=1e-6)
    assert all(h.id == index.pair_id(h.pair) for h in hits)
    assert hits[0].metadata["source"] == "words"


def test_lookup_d(index):
    hits = index.analogy(("barista", "coffee"), d="bread", k=50)
    assert {h.tail for h in hits} == {"bread"}
    assert {h.head for h in hits}.isdisjoint({"barista", "coffee", "bread"})
    assert len(hits) == 18  # 20 heads of bread, minus barista and coffee


def test_on_the_fly_when_c_heads_nothing(index, tiny_encoder):
    assert not index.has_answers(c=NO_HEAD)
    hits = index.analogy("barista:coffee", c=NO_HEAD, k=4)
    candidates = [(NO_HEAD, w) for w in index.words if w not in (NO_HEAD, "barista", "coffee")]
    scores = tiny_encoder.encode(candidates) @ index.vector("barista:coffee")
    order = np.argsort(-scores, kind="stable")[:4]
    assert [h.pair for h in hits] == [candidates[i] for i in order]
    np.testing.assert_allclose([h.score for h in hits], scores[order], atol=1e-5)
    assert all(h.id is None and h.metadata == {} for h in hits)


def test_query_pair_not_in_index(index):
    hits = index.analogy("puppy:dog", c="kitten", k=3)  # neither the pair nor head kitten is indexed
    assert len(hits) == 3 and all(h.head == "kitten" for h in hits)


@pytest.mark.parametrize(
    "target, result",
    [("baker:?", ("baker", None)), ("?:bread", (None, "bread")), (("?", "x"), (None, "x"))],
)
def test_parse_target(target, result):
    assert parse_target(target) == result


@pytest.mark.parametrize(
    "target, message", [("?:?", "both sides unknown"), ("a:b", "no unknown side"), ("a", "no separator")]
)
def test_parse_target_errors(target, message):
    with pytest.raises(InvalidPairError, match=message):
        parse_target(target)


def test_bad_questions(index):
    with pytest.raises(RelsearchError, match="exactly one"):
        index.analogy("barista:coffee", k=3)
    with pytest.raises(RelsearchError, match="exactly one"):
        index.analogy("barista:coffee", c="a", d="b", k=3)
    with pytest.raises(InvalidPairError, match="must not contain"):
        index.analogy("barista:?", c="baker", k=3)


def test_rank_choices():
    stem = np.array([1.0, 0.0], dtype=np.float32)
    vectors = np.array([[0.0, 1.0], [0.8, 0.6], [1.0, 0.0]], dtype=np.float32)
    hits = rank_choices(stem, vectors, [("a", "b"), ("c", "d"), ("e", "f")])
    assert [(h.rank, h.pair, h.metadata["choice"]) for h in hits] == [
        (1, ("e", "f"), 2),
        (2, ("c", "d"), 1),
        (3, ("a", "b"), 0),
    ]
    assert hits[1].score == pytest.approx(0.8)
