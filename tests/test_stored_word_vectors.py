"""word_vectors.parquet: hybrid indexes store their words' vectors; new pairs of indexed words reuse them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relsearch import RelationEncoder, RelationIndex
from relsearch.errors import IndexFormatError
from relsearch.index.format import MANIFEST_FILE, WORD_VECTORS_FILE
from relsearch.storage.word_vectors_file import read_word_vectors, write_word_vectors

PAIRS = [("barista", "coffee"), ("baker", "bread"), ("brewer", "beer"), ("king", "queen"), ("man", "woman")]


def test_round_trip_and_wrong_dimension(tmp_path):
    words = ["a", "b", "c"]
    vectors = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    write_word_vectors(tmp_path / "w.parquet", words, vectors)
    got_words, got = read_word_vectors(tmp_path / "w.parquet", 5)
    assert got_words == words
    np.testing.assert_array_equal(got, vectors)
    with pytest.raises(IndexFormatError, match="expected 4 floats"):
        read_word_vectors(tmp_path / "w.parquet", 4)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(IndexFormatError, match="not a readable Parquet file"):
        read_word_vectors(tmp_path / "bad.parquet", 5)


@pytest.fixture(scope="module")
def hybrid_index(tmp_path_factory, tiny_model_dir):
    encoder = RelationEncoder(tiny_model_dir, word_weight=0.4)
    out = tmp_path_factory.mktemp("hybrid") / "idx"
    return RelationIndex.build(out, pairs=PAIRS, encoder=encoder)


def test_build_stores_every_indexed_word(hybrid_index, tiny_model_dir):
    manifest = hybrid_index.manifest
    words, vectors = read_word_vectors(hybrid_index.path / WORD_VECTORS_FILE, 32)
    assert words == sorted({w for pair in PAIRS for w in pair})
    assert manifest["word_vectors"] == {"file": WORD_VECTORS_FILE, "words": len(words), "dim": 32}
    fresh = RelationEncoder(tiny_model_dir).encode_words(words)
    np.testing.assert_allclose(vectors, fresh, atol=1e-6)


def test_new_pair_of_indexed_words_needs_no_word_pass(hybrid_index, tiny_model_dir):
    index = RelationIndex.load(hybrid_index.path)
    encoder = index.encoder
    assert len(encoder._word_cache) == 10  # seeded from the file

    def refuse(words):
        raise AssertionError(f"word vectors computed again for {words}")

    encoder._word_cache.compute = refuse
    pair = ("barista", "bread")  # both words indexed, the pair is not
    assert pair not in index
    expected = RelationEncoder(tiny_model_dir, word_weight=0.4).encode(pair)
    np.testing.assert_allclose(index.vector(pair), expected, atol=1e-5)
    assert [h.pair for h in index.search(pair, k=2, allow_overlap=True)]
    with pytest.raises(AssertionError, match="computed again"):
        index.vector(("barista", "tea"))  # "tea" is not indexed: it must be computed


def test_missing_file_named_by_the_manifest_is_an_error(hybrid_index, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(hybrid_index.path, copy)
    (copy / WORD_VECTORS_FILE).unlink()
    with pytest.raises(IndexFormatError, match=WORD_VECTORS_FILE):
        RelationIndex.load(copy)


def test_prompt_only_index_stores_no_word_vectors(tmp_path, tiny_model_dir):
    index = RelationIndex.build(tmp_path / "idx", pairs=PAIRS, model=str(tiny_model_dir))
    manifest = json.loads((index.path / MANIFEST_FILE).read_text())
    assert "word_vectors" not in manifest and not (index.path / WORD_VECTORS_FILE).exists()


def test_info_tells_whether_word_vectors_are_stored(hybrid_index, tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from relsearch.cli.app import app

    def info(path) -> str:
        result = CliRunner().invoke(app, ["info", "-i", str(path)])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    assert "10 words (word_vectors.parquet)" in info(hybrid_index.path)
    plain = RelationIndex.build(tmp_path / "plain", pairs=PAIRS, model=str(tiny_model_dir))
    assert "none (prompt-only vectors)" in info(plain.path)
