"""``relsearch export``: the files re-read by gensim, pyarrow and pandas, keys, atomic output."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from fake_encoder import FakeEncoder
from index_factory import encoded_index
from typer.testing import CliRunner

from relsearch.cli.app import app
from relsearch.errors import RelsearchError
from relsearch.export.pair_keys import pair_key, plan_keys
from relsearch.export.parquet import export_parquet
from relsearch.export.word2vec import export_word2vec
from relsearch.index.relation_index import RelationIndex

runner = CliRunner()

PAIRS = [
    ("baker", "bread"),
    ("brewer", "beer"),
    ("Tokyo", "Japan"),
    ("new york", "usa"),  # space -> new_york__usa
    ("new_york", "usa"),  # same key as the pair above: left out of word2vec
    ("a__b", "c"),  # '__' inside a word: ambiguous, left out
    ("_x", "y"),  # leading '_': ambiguous, left out
    ("café", "crème"),
    ("ratio", "a:b"),
]
KEYED = [p for i, p in enumerate(PAIRS) if i not in (4, 5, 6)]


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> RelationIndex:
    path = encoded_index(
        tmp_path_factory.mktemp("exp") / "idx", FakeEncoder(dim=12, seed=3), PAIRS, shard_size=4
    )
    return RelationIndex.load(path)


def test_pair_keys():
    assert pair_key(("Tokyo", "Japan")) == "Tokyo__Japan"
    assert pair_key(("new  york", "united\tstates")) == "new_york__united_states"
    assert pair_key(("a__b", "c")) is None and pair_key(("a", "b_")) is None
    plan = plan_keys(PAIRS)
    assert plan.written == len(KEYED) and plan.duplicates == [("new_york", "usa")]
    assert plan.ambiguous == [("a__b", "c"), ("_x", "y")]


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_loads_in_gensim(index, tmp_path, binary):
    gensim_models = pytest.importorskip("gensim.models")
    out = tmp_path / ("pairs.bin" if binary else "pairs.txt")
    report = export_word2vec(index, out, binary=binary)
    assert report.written == len(KEYED) and len(report.skipped) == 3
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(out), binary=binary)
    assert len(kv) == len(KEYED) and kv.vector_size == index.dim
    for pair in KEYED:
        key = pair_key(pair)
        assert key in kv.key_to_index
        np.testing.assert_allclose(kv[key], index.vector(pair), atol=1e-5 if not binary else 0)
    assert "new_york__usa" in kv.key_to_index and "café__crème" in kv.key_to_index
    # the exported vectors are the index's: gensim's nearest neighbour agrees with exact search
    best = kv.most_similar("baker__bread", topn=1)[0][0]
    scores = {pair_key(p): float(index.vector(p) @ index.vector("baker:bread")) for p in KEYED[1:]}
    assert best == max(scores, key=scores.get)


def test_parquet_loads_in_pyarrow_and_pandas(index, tmp_path):
    pd = pytest.importorskip("pandas")
    out = tmp_path / "pairs.parquet"
    report = export_parquet(index, out)
    assert report.written == len(PAIRS) and not report.skipped
    table = pq.read_table(out)
    assert table.column_names == ["head", "tail", "vector"]
    assert table.schema.field("vector").type.list_size == index.dim
    about = json.loads(table.schema.metadata[b"relsearch"])
    assert about["dim"] == index.dim and about["pairs"] == len(PAIRS) and about["fingerprint"]
    frame = pd.read_parquet(out)
    assert list(zip(frame["head"], frame["tail"], strict=True)) == PAIRS  # every pair, exact words
    vectors = np.stack(frame["vector"].to_numpy())
    assert vectors.dtype == np.float32 and vectors.shape == (len(PAIRS), index.dim)
    np.testing.assert_array_equal(vectors, index.vectors(PAIRS))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)


def test_chunks_cover_every_row(index, tmp_path, monkeypatch):
    """With chunks smaller than the index (and than a shard), the rows are still all there, in order."""
    import relsearch.export.parquet as parquet_module
    import relsearch.export.word2vec as word2vec_module

    monkeypatch.setattr(parquet_module, "CHUNK", 2)
    monkeypatch.setattr(word2vec_module, "CHUNK", 2)
    export_parquet(index, tmp_path / "p.parquet")
    assert pq.ParquetFile(tmp_path / "p.parquet").num_row_groups == 5
    np.testing.assert_array_equal(
        np.stack(pq.read_table(tmp_path / "p.parquet")["vector"].to_numpy(zero_copy_only=False)),
        index.vectors(PAIRS),
    )
    export_word2vec(index, tmp_path / "w.txt")
    lines = (tmp_path / "w.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{len(KEYED)} {index.dim}"
    assert [line.split(" ")[0] for line in lines[1:]] == [pair_key(p) for p in KEYED]


def test_existing_output_is_kept_unless_overwrite(index, tmp_path):
    out = tmp_path / "pairs.txt"
    out.write_text("precious")
    with pytest.raises(RelsearchError, match="exists; pass --overwrite"):
        export_word2vec(index, out)
    assert out.read_text() == "precious"
    export_word2vec(index, out, overwrite=True)
    assert out.read_text().startswith(f"{len(KEYED)} ")


def test_failed_export_leaves_no_file(index, tmp_path, monkeypatch):
    """An error part-way (here: the second chunk) leaves neither OUT nor a temp file."""
    import relsearch.export.word2vec as word2vec_module

    def broken_chunks(idx, chunk):
        yield 0, [], idx.stored.get([0, 1])[:0]
        raise KeyboardInterrupt

    monkeypatch.setattr(word2vec_module, "vector_chunks", broken_chunks)
    with pytest.raises(KeyboardInterrupt):
        export_word2vec(index, tmp_path / "pairs.txt")
    assert list(tmp_path.iterdir()) == []


def test_cli_export(index, tmp_path):
    out = tmp_path / "pairs.bin"
    result = runner.invoke(
        app, ["export", str(out), "-i", str(index.path), "--format", "word2vec", "--binary", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (
        summary["vectors"] == len(KEYED)
        and summary["skipped"] == 3
        and summary["bytes"] == out.stat().st_size
    )
    assert "left out 3 pair(s)" in result.stderr and "wrote 6 pair vectors" in result.stderr
    result = runner.invoke(
        app, ["export", str(tmp_path / "p.parquet"), "-i", str(index.path), "-f", "parquet"]
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "p.parquet").num_rows == len(PAIRS)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--format", "csv"], 2, "csv"),
        (["--format", "parquet", "--binary"], 2, "--binary"),
        (["-i", "/nonexistent/index"], 1, "no index at"),
        (["OUT_IS_DIR"], 1, "is a directory"),
        (["missing/folder/out.txt"], 1, "does not exist"),
    ],
)
def test_cli_export_errors(index, tmp_path, args, code, message):
    out = str(tmp_path / "out.txt")
    if args == ["OUT_IS_DIR"]:
        args, out = [], str(tmp_path)
    if args == ["missing/folder/out.txt"]:
        args, out = [], str(tmp_path / "missing" / "folder" / "out.txt")
    full = ["export", out, *(["-i", str(index.path)] if "-i" not in args else []), *args]
    result = runner.invoke(app, full)
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
