"""RelationIndex over real FAISS indexes: exact results, filters, new pairs, bad index directories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from index_factory import write_index
from index_fixtures import *  # noqa: F403  (fixtures)
from index_fixtures import NO_HEAD

from relsearch import Hit, RelationIndex
from relsearch.errors import IndexFormatError, InvalidPairError, ModelLoadError, RelsearchError
from relsearch.index import faiss_search
from relsearch.index.format import CHECKPOINT_FILE, FAISS_FILE, MANIFEST_FILE, PAIRS_FILE, shard_path


@pytest.fixture(scope="module")
def index(tiny_index) -> RelationIndex:
    return RelationIndex.load(tiny_index)


@pytest.fixture(scope="module")
def ivf(ivf_index) -> RelationIndex:
    return RelationIndex.load(ivf_index)


def all_vectors(idx: RelationIndex) -> np.ndarray:
    return idx.stored.get(np.arange(len(idx)))


def brute_force(
    idx: RelationIndex, query: np.ndarray, k: int, allowed: np.ndarray
) -> tuple[list, np.ndarray]:
    """Exact top-k over the allowed ids (boolean mask)."""
    scores = all_vectors(idx) @ (query / np.linalg.norm(query))
    ids = np.flatnonzero(allowed)
    order = np.lexsort((ids, -scores[ids]))[:k]
    return ids[order].tolist(), scores[ids[order]]


def check_exact(idx: RelationIndex, hits: list[Hit], query: np.ndarray, k: int, allowed: np.ndarray) -> None:
    ids, scores = brute_force(idx, query, k, allowed)
    assert len(hits) == len(ids)
    np.testing.assert_allclose([h.score for h in hits], scores, atol=1e-6)
    all_scores = all_vectors(idx) @ (query / np.linalg.norm(query))
    for hit in hits:
        assert allowed[hit.id]
        assert abs(all_scores[hit.id] - hit.score) < 1e-6
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def same(a: list[Hit], b: list[Hit]) -> bool:
    """Same ids in the same order, scores equal up to float32 rounding."""
    return [h.id for h in a] == [h.id for h in b] and np.allclose([h.score for h in a], [h.score for h in b])


def overlap_mask(idx: RelationIndex, pair: tuple[str, str]) -> np.ndarray:
    pairs = idx.table.pairs(np.arange(len(idx)))
    return np.array([not ({h, t} & set(pair)) for h, t in pairs])


def test_load_basics(index):
    assert len(index) == 441 and index.dim == 32
    assert ("barista", "coffee") in index and "barista:coffee" in index
    assert "kitten:cat" not in index and "not a pair" not in index
    assert index.pair_id("barista:coffee") == 0
    assert index.metadata_columns == ["source", "weight"]
    assert "RelationIndex(" in repr(index)


def test_search_excludes_overlap_and_is_exact(index):
    pair = ("barista", "coffee")
    hits = index.search("barista:coffee", k=10)
    assert all(not ({h.head, h.tail} & set(pair)) for h in hits)
    check_exact(index, hits, index.vector(pair), 10, overlap_mask(index, pair))
    assert hits[0].metadata == {"source": "words", "weight": float(hits[0].id % 7)}


def test_allow_overlap_keeps_query_pair(index):
    hits = index.search(("barista", "coffee"), k=5, allow_overlap=True)
    assert hits[0].pair == ("barista", "coffee") and hits[0].score == pytest.approx(1.0, abs=1e-6)
    check_exact(index, hits, index.vector("barista:coffee"), 5, np.ones(len(index), bool))


def test_head_and_tail_filters(index):
    query = index.vector("barista:coffee")
    hits = index.search("barista:coffee", k=5, head="king")
    assert [h.head for h in hits] == ["king"] * 5
    heads = np.array([h == "king" for h, _ in index.table.pairs(np.arange(len(index)))])
    check_exact(index, hits, query, 5, heads & overlap_mask(index, ("barista", "coffee")))
    hits = index.search("barista:coffee", k=50, tail="bread")
    assert {h.tail for h in hits} == {"bread"} and len(
        hits
    ) == 18  # 20 heads (not bread, not kitten) minus barista, coffee
    hits = index.search("barista:coffee", k=5, head="king", tail="bread")
    assert [h.pair for h in hits] == [("king", "bread")]
    assert index.search("barista:coffee", k=5, head="barista") == []  # every such pair overlaps
    assert len(index.search("barista:coffee", k=5, head="barista", allow_overlap=True)) == 5
    assert index.search("barista:coffee", k=5, head="nosuchword") == []


def test_search_by_vector_and_batch(index):
    vec = index.vector("king:queen") * 3.0  # any scale: cosine
    by_vector = index.search(vec, k=5)
    assert by_vector[0].pair == ("king", "queen")  # no overlap filter without a pair
    batch = index.search_batch(["barista:coffee", vec, ("dog", "puppy")], k=4)
    assert same(batch[0], index.search("barista:coffee", k=4))
    assert same(batch[1], index.search(vec, k=4))
    assert same(batch[2], index.search("dog:puppy", k=4))
    assert same(index.search_batch(np.stack([vec, vec]), k=2)[1], by_vector[:2])
    with pytest.raises(RelsearchError, match="shape"):
        index.search(np.zeros(32), k=3)


def test_new_pair_is_encoded_with_the_index_model(index, tiny_encoder):
    pair = ("kitten", "milk")
    assert pair not in index
    np.testing.assert_allclose(index.vector(pair), tiny_encoder.encode(pair), atol=1e-6)
    hits = index.search(pair, k=7)
    check_exact(index, hits, tiny_encoder.encode(pair), 7, overlap_mask(index, pair))


@pytest.mark.parametrize(
    "k, message", [(0, "at least 1"), (-3, "at least 1"), (442, "larger than the index")]
)
def test_bad_k(index, k, message):
    with pytest.raises(RelsearchError, match=message):
        index.search("barista:coffee", k=k)
    with pytest.raises(RelsearchError, match=message):
        index.analogy("barista:coffee", c="baker", k=k)


def test_bad_pairs(index):
    with pytest.raises(InvalidPairError, match="no separator"):
        index.search("baristacoffee")
    with pytest.raises(InvalidPairError, match="empty head"):
        index.search(":coffee")


def test_ivf_overlap_filter_gives_k_hits(ivf):
    for pair in ivf.table.pairs([0, 17, 400, 2999]):
        hits = ivf.search(pair, k=10)
        assert len(hits) == 10
        assert all(not ({h.head, h.tail} & set(pair)) for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        np.testing.assert_allclose(
            [h.score for h in hits], ivf.stored.get([h.id for h in hits]) @ ivf.vector(pair)
        )


def test_ivf_head_filter_is_exact(ivf):
    pair = ivf.table.pair(5)
    word = next(w for w in ivf.words if w not in pair and len(ivf.table.ids_with_head(w)) > 12)
    hits = ivf.search(pair, k=12, head=word)
    heads = np.array([h == word for h, _ in ivf.table.pairs(np.arange(len(ivf)))])
    check_exact(ivf, hits, ivf.vector(pair), 12, heads & overlap_mask(ivf, pair))


@pytest.mark.parametrize("limit", ["EXACT_LIMIT", "OVERFETCH_LIMIT"])
def test_ivf_selector_path(ivf, monkeypatch, limit):
    """Forced through FAISS IDSelectors (widening nprobe as needed): filters hold, k hits come back."""
    monkeypatch.setattr(faiss_search, limit, 0)
    pair = ivf.table.pair(9)
    word = next(w for w in ivf.words if w not in pair and len(ivf.table.ids_with_head(w)) >= 10)
    hits = ivf.search(pair, k=10, head=word)
    assert len(hits) == 10 and {h.head for h in hits} == {word}
    hits = ivf.search(pair, k=10)
    assert len(hits) == 10 and all(not ({h.head, h.tail} & set(pair)) for h in hits)


@pytest.mark.parametrize("factory", ["PQ4x4", "IVF4,PQ4x4", "HNSW8"])
def test_other_index_types(tmp_path, index, factory):
    """Index types without selector support (PQ) fall back to over-fetching; scores are exact cosines."""
    pairs = index.table.pairs(np.arange(len(index)))
    path = write_index(
        tmp_path / "idx", pairs, all_vectors(index), index.manifest["encoder"], factory=factory
    )
    other = RelationIndex.load(path)
    pair = ("barista", "coffee")
    hits = other.search(pair, k=8)
    assert len(hits) == 8 and all(not ({h.head, h.tail} & set(pair)) for h in hits)
    np.testing.assert_allclose(
        [h.score for h in hits], other.stored.get([h.id for h in hits]) @ other.vector(pair)
    )
    hits = other.search(pair, k=3, head="king")
    assert [h.head for h in hits] == ["king"] * 3


def test_mmap_load_gives_the_same_hits(tiny_index, index):
    mapped = RelationIndex.load(tiny_index, mmap=True)
    assert same(
        mapped.search("barista:coffee", k=5, head="dog"), index.search("barista:coffee", k=5, head="dog")
    )
    assert same(mapped.search("barista:coffee", k=5), index.search("barista:coffee", k=5))


def test_hit_is_frozen_and_serialises(index):
    hit = index.search("barista:coffee", k=1)[0]
    with pytest.raises(AttributeError):
        hit.score = 0.0  # type: ignore[misc]
    data = hit.to_dict()
    assert list(data)[:5] == ["rank", "id", "head", "tail", "score"]
    assert json.loads(json.dumps(data)) == data
    assert Hit(1, 2, "a", "b", 0.5, {"score": 3}).to_dict()["metadata.score"] == 3


# -- the index's model ---------------------------------------------------------------------------------


def copy_with_encoder(src: Path, dst: Path, **changes: object) -> Path:
    shutil.copytree(src, dst)
    manifest = json.loads((dst / MANIFEST_FILE).read_text())
    manifest["encoder"].update(changes)
    (dst / MANIFEST_FILE).write_text(json.dumps(manifest))
    return dst


def test_missing_model_says_which_and_how(tiny_index, tmp_path, tiny_model_dir):
    path = copy_with_encoder(tiny_index, tmp_path / "idx", model=str(tmp_path / "gone" / "model"))
    moved = RelationIndex.load(path)
    assert len(moved.search("barista:coffee", k=3)) == 3  # stored vectors need no model
    with pytest.raises(ModelLoadError, match=r"gone/model.*--model DIR"):
        moved.search("kitten:milk", k=3)
    relocated = RelationIndex.load(path, model=str(tiny_model_dir))
    assert len(relocated.search("kitten:milk", k=3)) == 3


def test_missing_pypi_model_points_to_install(tiny_index, tmp_path):
    path = copy_with_encoder(tiny_index, tmp_path / "idx", model="pypi:no-such-model")
    with pytest.raises(ModelLoadError, match=r"pypi:no-such-model.*bash install\.sh"):
        RelationIndex.load(path).vector("kitten:milk")


def test_fingerprint_mismatch_refuses(tiny_index, tmp_path):
    path = copy_with_encoder(tiny_index, tmp_path / "idx", fingerprint="0" * 32)
    with pytest.raises(ModelLoadError, match="would not be comparable"):
        RelationIndex.load(path).search("kitten:milk", k=3)


# -- bad index directories ----------------------------------------------------------------------------


def broken(tiny_index: Path, tmp_path: Path, how: str) -> Path:
    path = tmp_path / "idx"
    shutil.copytree(tiny_index, path)
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    if how == "no manifest":
        (path / MANIFEST_FILE).unlink()
    elif how == "checkpoint":
        (path / MANIFEST_FILE).unlink()
        (path / "embeddings" / CHECKPOINT_FILE).write_text("{}")
    elif how == "newer":
        manifest["format_version"] = 99
    elif how == "no faiss":
        (path / FAISS_FILE).unlink()
    elif how == "no shard":
        shard_path(path, 2).unlink()
    elif how == "counts":
        manifest["counts"]["pairs"] = 440
    elif how == "no encoder":
        del manifest["encoder"]
    elif how == "bad parquet":
        (path / PAIRS_FILE).write_bytes(b"garbage")
    elif how == "bad faiss":
        (path / FAISS_FILE).write_bytes(b"garbage")
    if how not in ("no manifest", "checkpoint"):
        (path / MANIFEST_FILE).write_text(json.dumps(manifest))
    return path


BROKEN = {
    "no manifest": "not a relsearch index",
    "checkpoint": "incomplete",
    "newer": "newer than this relsearch",
    "no faiss": r"index.faiss in .* is missing",
    "no shard": r"part-00002.npy in .* is missing",
    "counts": "inconsistent",
    "no encoder": "lacks encoder",
    "bad parquet": "pairs.parquet in .* is 7 bytes, the manifest says",
    "bad faiss": r"index.faiss in .* is 7 bytes, the manifest says .*verify .*--repair",
}


@pytest.mark.parametrize("how", list(BROKEN))
def test_bad_index_directories(tiny_index, tmp_path, how):
    with pytest.raises(IndexFormatError, match=BROKEN[how]):
        RelationIndex.load(broken(tiny_index, tmp_path, how))


def test_missing_directory(tmp_path):
    with pytest.raises(IndexFormatError, match="no index at"):
        RelationIndex.load(tmp_path / "nope")


def test_default_path_from_env(tiny_index, monkeypatch):
    monkeypatch.setenv("RELSEARCH_INDEX", str(tiny_index))
    assert len(RelationIndex.load()) == 441


def test_no_head_word_fixture_sanity(index):
    assert not index.has_answers(c=NO_HEAD) and index.has_answers(d=NO_HEAD)


def test_hit_docstring_example():
    import doctest

    from relsearch.index import hit

    result = doctest.testmod(hit)
    assert result.attempted > 0 and result.failed == 0  # the examples ran, and passed


def test_words_match_ignoring_case(index):
    assert "Barista:coffee" not in index  # pair lookup is exact
    hits = index.search("BARISTA:Coffee", k=10)  # encoded, but the overlap filter ignores case
    assert all(not ({h.head, h.tail} & {"barista", "coffee"}) for h in hits)
    assert {h.head for h in index.search("barista:coffee", k=3, head="KING")} == {"king"}
    assert {h.tail for h in index.analogy("barista:coffee", c="Baker", k=30)}.isdisjoint(
        {"barista", "coffee"}
    )
