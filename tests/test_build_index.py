"""build_index end to end with a seeded fake encoder (and once with the tiny real model)."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pyarrow.parquet as pq
import pytest
from crash_hooks import SimulatedCrash, crash_after
from fake_encoder import FakeEncoder

from index_builder.build import build_index
from relsearch.errors import IndexFormatError, RelsearchError
from relsearch.index.format import (
    CHECKPOINT_FILE,
    FORMAT_VERSION,
    PARQUET_METADATA_KEY,
    read_manifest,
    shard_path,
)
from relsearch.storage import shard_files as shard_files_module

WORDS = [f"word{i}" for i in range(60)] + ["baker", "bread", "brewer", "beer"]


def build(out, **kwargs):
    kwargs.setdefault("vocab", WORDS)
    kwargs.setdefault("encoder", FakeEncoder())
    kwargs.setdefault("k", 3)
    kwargs.setdefault("shard_size", 50)
    return build_index(out, **kwargs)


def index_files(out) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "relsearch.json"
    }


def stable_manifest(out) -> dict:
    manifest = json.loads((out / "relsearch.json").read_text())
    for key in ("created", "build"):
        manifest.pop(key)
    manifest["faiss"].pop("seconds")
    return manifest


def test_build_writes_the_contract(tmp_path):
    out = tmp_path / "idx"
    report = build(out)
    manifest = read_manifest(out)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["encoder"] == FakeEncoder().describe()
    assert manifest["counts"] == {"pairs": report.pairs, "words": len(WORDS), "shards": report.shards}
    assert manifest["faiss"]["factory"] == "Flat" and manifest["faiss"]["metric"] == "inner_product"
    assert manifest["faiss"]["recall_at_10"] == 1.0
    assert manifest["input"]["kind"] == "vocab" and manifest["input"]["k"] == 3
    assert manifest["shard_size"] == 50 and manifest["build"]["settings"]["engine"] == "local"
    assert manifest["build"]["peak_rss_bytes"] > 0 and manifest["versions"]["faiss-cpu"]
    assert not (out / "embeddings" / CHECKPOINT_FILE).exists()

    table = pq.read_table(out / "pairs.parquet")
    assert table.column_names == ["id", "head", "tail"]
    assert table.column("id").to_pylist() == list(range(report.pairs))
    stamp = json.loads(table.schema.metadata[PARQUET_METADATA_KEY])
    assert stamp["pairs"] == report.pairs
    assert stamp["input"]["fingerprint"] == manifest["input"]["fingerprint"]

    # shards: normalised float16 rows in id order, equal to the encoder's vectors
    heads, tails = table.column("head").to_pylist(), table.column("tail").to_pylist()
    expected = FakeEncoder().encode(list(zip(heads, tails, strict=True)))
    stored = np.concatenate([np.load(shard_path(out, k)) for k in range(report.shards)])
    assert stored.dtype == np.float16 and stored.shape == expected.shape
    np.testing.assert_allclose(stored.astype(np.float32), expected, atol=1e-3)
    assert np.load(shard_path(out, 0)).shape[0] == 50

    # FAISS ids are Parquet row ids
    index = faiss.read_index(str(out / "index.faiss"))
    assert index.ntotal == report.pairs
    _, ids = index.search(expected[[0, 17, report.pairs - 1]], 1)
    assert ids[:, 0].tolist() == [0, 17, report.pairs - 1]


def test_related_words_become_pairs(tmp_path):
    base = np.eye(16, dtype=np.float32)
    vectors = {"baker": base[0], "bread": base[0] + 0.1 * base[1], "brewer": base[2], "beer": base[2] + 0.1}
    report = build(tmp_path / "idx", encoder=FakeEncoder(word_vectors=vectors), k=1)
    table = pq.read_table(tmp_path / "idx" / "pairs.parquet")
    pairs = set(zip(table.column("head").to_pylist(), table.column("tail").to_pylist(), strict=True))
    assert {("baker", "bread"), ("bread", "baker"), ("brewer", "beer"), ("beer", "brewer")} <= pairs
    assert report.pairs == len(pairs) <= 2 * len(WORDS)


def test_crash_after_shard_then_resume_equals_a_clean_build(tmp_path, monkeypatch):
    clean = tmp_path / "clean"
    build(clean)
    out = tmp_path / "crashed"
    with pytest.raises(SimulatedCrash):
        build(out, after_shard=crash_after(2))
    assert not (out / "relsearch.json").exists()
    with pytest.raises(IndexFormatError, match="incomplete"):
        read_manifest(out)
    assert sorted(p.name for p in (out / "embeddings").glob("part-*")) == [
        "part-00000.npy",
        "part-00001.npy",
        "part-00002.npy",
    ]
    encoder = FakeEncoder()
    report = build(out, encoder=encoder)
    assert report.shards_reused == 3 and report.shards_encoded == report.shards - 3
    assert encoder.pairs_encoded == report.pairs - 150  # only the missing shards were encoded
    assert index_files(out) == index_files(clean)  # Parquet, shards and FAISS index, byte for byte
    assert stable_manifest(out) == stable_manifest(clean)


def test_interrupted_shard_write_leaves_no_partial_shard(tmp_path, monkeypatch):
    out = tmp_path / "idx"
    real_save = np.save
    calls = {"n": 0}

    def dying_save(fh, array):
        calls["n"] += 1
        if calls["n"] == 2:
            fh.write(b"\x93NUMPY partial")
            raise KeyboardInterrupt
        real_save(fh, array)

    monkeypatch.setattr(shard_files_module.np, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        build(out)
    monkeypatch.setattr(shard_files_module.np, "save", real_save)
    files = sorted(p.name for p in (out / "embeddings").iterdir())
    assert files == [CHECKPOINT_FILE, "part-00000.npy"]  # no shard 1, no temp file
    # a temp file and a truncated shard, as a kill -9 of another writer could leave
    (out / "embeddings" / ".part-00001.npy.tmp-999999").write_bytes(b"junk")
    shard_path(out, 2).write_bytes(shard_path(out, 0).read_bytes()[:100])
    report = build(out)
    assert report.shards_reused == 1
    assert not list((out / "embeddings").glob(".*tmp*"))
    clean = tmp_path / "clean"
    build(clean)
    assert index_files(out) == index_files(clean)


def test_resume_refuses_other_model_or_input_and_overwrite_starts_over(tmp_path, monkeypatch):
    out = tmp_path / "idx"
    with pytest.raises(SimulatedCrash):
        build(out, after_shard=crash_after(0))
    with pytest.raises(IndexFormatError, match=r"another model .*fake-seed0.*--overwrite"):
        build(out, encoder=FakeEncoder(seed=1))
    with pytest.raises(IndexFormatError, match=r"different input .*--overwrite"):
        build(out, k=4)
    with pytest.raises(IndexFormatError, match="different input"):
        build(out, vocab=WORDS[:-1])
    with pytest.raises(IndexFormatError, match="--shard-size 50"):
        build(out, shard_size=40)
    report = build(out, encoder=FakeEncoder(seed=1), overwrite=True)
    assert report.shards_reused == 0
    assert read_manifest(out)["encoder"]["model"] == "fake-seed1"


def test_complete_index_is_kept_without_overwrite(tmp_path):
    out = tmp_path / "idx"
    build(out)
    before = index_files(out)
    with pytest.raises(IndexFormatError, match=r"already holds a complete relsearch index.*--overwrite"):
        build(out, k=5)
    assert index_files(out) == before
    (out / "notes.txt").write_text("mine")
    report = build(out, k=5, overwrite=True)
    assert read_manifest(out)["input"]["k"] == 5 and report.pairs > 0
    assert (out / "notes.txt").read_text() == "mine"  # overwrite removes only relsearch's files


def test_foreign_directory_is_refused_even_with_overwrite(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    for overwrite in (False, True):
        with pytest.raises(IndexFormatError, match=r"not a relsearch index .*thesis.tex"):
            build(out, overwrite=overwrite)
    assert (out / "thesis.tex").read_text() == "precious"
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(IndexFormatError, match="is a file"):
        build(afile)


def test_dry_run_writes_nothing(tmp_path):
    out = tmp_path / "idx"
    report = build(out, dry_run=True)
    assert not out.exists()
    assert report.dry_run and report.pairs > 0 and report.index_plan["factory"] == "Flat"
    est = report.estimates
    assert est["pairs_per_second"] > 0 and est["encode_seconds"] >= 0
    assert est["peak_memory_bytes"] > 0 and est["disk_bytes"] >= report.pairs * 16 * 2


def test_pairs_input_keeps_metadata_and_ivf_records_recall(tmp_path):
    path = tmp_path / "pairs.tsv"
    rows = [f"h{i}\tt{i % 97}\trel{i % 3}\t{i}\n" for i in range(2000)]
    path.write_text("".join(rows) + rows[5])  # one duplicate
    out = tmp_path / "idx"
    report = build(out, vocab=None, pairs=path, index_key="IVF16,SQ8", shard_size=300)
    table = pq.read_table(out / "pairs.parquet")
    assert table.column_names == ["id", "head", "tail", "column_3", "column_4"]
    assert table.num_rows == 2000 and report.input["duplicates_dropped"] == 1
    manifest = read_manifest(out)
    assert manifest["faiss"]["factory"] == "IVF16,SQ8"
    assert manifest["faiss"]["search_params"]["nprobe"] in (1, 2, 4, 8, 16)
    assert 0.5 < manifest["faiss"]["recall_at_10"] <= 1.0 and manifest["faiss"]["recall_queries"] == 200
    index = faiss.read_index(str(out / "index.faiss"))
    assert index.ntotal == 2000
    assert faiss.extract_index_ivf(index).nprobe == manifest["faiss"]["search_params"]["nprobe"]


def test_argument_errors(tmp_path):
    with pytest.raises(RelsearchError, match="exactly one"):
        build_index(tmp_path / "x", encoder=FakeEncoder())
    with pytest.raises(RelsearchError, match="exactly one"):
        build(tmp_path / "x", pairs=["a:b"])
    with pytest.raises(RelsearchError, match="unknown engine 'dask'; available: local, ray"):
        build(tmp_path / "x", engine="dask")
    with pytest.raises(RelsearchError, match="--all-pairs applies to a vocabulary"):
        build(tmp_path / "x", vocab=None, pairs=["a:b"], all_pairs=True)
    with pytest.raises(RelsearchError, match="either model or encoder"):
        build(tmp_path / "x", model="pypi:all-MiniLM-L6-v2")
    with pytest.raises(RelsearchError, match="2,000 words gives 3,998,000"):
        build(tmp_path / "x", vocab=[f"w{i}" for i in range(2000)], all_pairs=True)
    assert not (tmp_path / "x").exists()


def test_all_pairs(tmp_path):
    report = build(tmp_path / "idx", vocab=WORDS[:10], all_pairs=True)
    assert report.pairs == 90 and report.input["k"] is None


def test_tiny_real_model_crash_and_resume_is_identical(tmp_path, monkeypatch, tiny_encoder):
    words = ["barista", "coffee", "baker", "bread", "brewer", "beer", "king", "queen", "dog", "puppy"]
    clean = tmp_path / "clean"
    build(clean, vocab=words, encoder=tiny_encoder, k=3, shard_size=8)
    with pytest.raises(SimulatedCrash):
        build(
            tmp_path / "resumed",
            vocab=words,
            encoder=tiny_encoder,
            k=3,
            shard_size=8,
            after_shard=crash_after(1),
        )
    report = build(tmp_path / "resumed", vocab=words, encoder=tiny_encoder, k=3, shard_size=8)
    assert report.shards_reused == 2
    assert index_files(tmp_path / "resumed") == index_files(clean)
    assert read_manifest(clean)["encoder"] == tiny_encoder.describe()
