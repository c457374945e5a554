"""Damaged files are never answered from: checksums checked on first read, ``verify``, ``--repair``.

Real indexes built by the builder (seeded fake encoder; the tiny model for word vectors),
damaged on disk the way a bad disk or copy does it: one flipped byte, or a truncation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from crash_hooks import SimulatedCrash, crash_after
from fake_encoder import FakeEncoder
from typer.testing import CliRunner

from index_builder.build import build_index
from index_builder.repair import repair_index
from relsearch import RelationIndex
from relsearch.cli.app import app
from relsearch.errors import DamagedFileError, RelsearchError
from relsearch.index.verify import verify_index
from relsearch.storage.checksums import file_record
from relsearch.storage.layout import FAISS_FILE, MANIFEST_FILE, PAIRS_FILE, WORD_VECTORS_FILE, shard_path
from relsearch.storage.shard_files import read_shard

runner = CliRunner()
PAIRS = [(f"h{i}", f"t{(7 * i) % 53}") for i in range(230)]  # 5 shards of 50 (the last 30)
SHARD = "embeddings/part-00001.npy"


def flip(path: Path, where: float = 0.6) -> None:
    """Flip one bit of one byte, ``where`` of the way into the file."""
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x10
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "idx"
    build_index(out, pairs=PAIRS, encoder=FakeEncoder(), shard_size=50)
    return out


@pytest.fixture
def copy(built, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(built, target)
    return target


def test_manifest_records_every_file(built):
    files = json.loads((built / MANIFEST_FILE).read_text())["files"]
    assert sorted(files) == [*(f"embeddings/part-0000{k}.npy" for k in range(5)), FAISS_FILE, PAIRS_FILE]
    for name, record in files.items():
        assert file_record(built / name).to_dict() == record
    report = verify_index(built, record=False)
    assert report.ok and report.files == 7 and report.checksums
    assert not (built / "verified.json").exists()


@pytest.mark.parametrize("damage", [flip, truncate], ids=["flipped byte", "truncated"])
@pytest.mark.parametrize("name", [PAIRS_FILE, FAISS_FILE])
def test_damaged_pairs_or_faiss_file_is_refused_at_load(copy, name, damage):
    damage(copy / name)
    with pytest.raises(
        DamagedFileError, match=rf"{name} in .*copy (is [0-9,]+ bytes|does not match its checksum)"
    ):
        RelationIndex.load(copy)
    report = verify_index(copy)
    assert [p.file for p in report.problems] == [name]


@pytest.mark.parametrize("damage", [flip, truncate], ids=["flipped byte", "truncated"])
def test_damaged_shard_is_refused_when_first_read(copy, damage):
    damage(copy / SHARD)
    if damage is truncate:  # a size change is seen at load already (one stat per file)
        with pytest.raises(DamagedFileError, match=r"part-00001.npy in .* is [0-9,]+ bytes, the manifest"):
            RelationIndex.load(copy)
        return
    index = RelationIndex.load(copy)  # shards are read lazily
    assert index.vector(PAIRS[0]).shape == (16,)  # shard 0 is intact
    with pytest.raises(DamagedFileError, match=r"part-00001.npy in .* does not match its checksum.*--repair"):
        index.vector(PAIRS[60])
    with pytest.raises(DamagedFileError, match=r"part-00001\.npy"):
        index.search(PAIRS[0], k=5)  # the stored vectors rescore FAISS's candidates


def test_verify_cli_names_the_damaged_file_and_the_fix(copy):
    ok = runner.invoke(app, ["verify", "-i", str(copy)])
    assert ok.exit_code == 0 and "ok: 7 files" in ok.stdout
    flip(copy / SHARD)
    bad = runner.invoke(app, ["verify", "-i", str(copy)])
    assert bad.exit_code == 1
    text = " ".join(bad.stderr.split())
    assert f"damaged: {SHARD} does not match its checksum" in text
    assert f"relsearch verify --index {copy} --repair" in text
    as_json = runner.invoke(app, ["verify", "-i", str(copy), "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["problems"][0]["file"] == SHARD


def test_query_on_a_damaged_index_is_one_line_and_exit_1(copy):
    flip(copy / FAISS_FILE)
    result = runner.invoke(app, ["query", "h1:t7", "-i", str(copy)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: index.faiss in") and len(result.stderr.strip().splitlines()) <= 3


def test_zero_byte_shard_is_one_clear_line(copy):
    (copy / SHARD).write_bytes(b"")
    result = runner.invoke(app, ["query", "h1:t7", "-i", str(copy)])
    assert result.exit_code == 1
    assert f"{SHARD} in {copy} is 0 bytes, the manifest says" in " ".join(result.stderr.split())


def test_repair_re_encodes_a_damaged_shard_and_rebuilds_faiss(copy, built):
    flip(copy / SHARD)
    flip(copy / FAISS_FILE)
    result = repair_index(copy, encoder=FakeEncoder())
    assert sorted(result.repaired) == [SHARD, FAISS_FILE] and result.after.ok
    assert (copy / SHARD).read_bytes() == (built / SHARD).read_bytes()
    a, b = RelationIndex.load(copy), RelationIndex.load(built)
    for query in ("h1:t7", "h100:t11"):
        assert [h.pair for h in a.search(query, k=5)] == [h.pair for h in b.search(query, k=5)]


def test_repair_refuses_a_damaged_pairs_file_and_another_encoder(copy):
    flip(copy / SHARD)
    with pytest.raises(RelsearchError, match="not the index's"):
        repair_index(copy, encoder=FakeEncoder(seed=3))
    flip(copy / PAIRS_FILE)
    with pytest.raises(RelsearchError, match=r"pairs.parquet in .* cannot be recomputed: restore it"):
        repair_index(copy, encoder=FakeEncoder())


def test_info_says_whether_the_index_was_verified(copy):
    def info() -> str:
        result = runner.invoke(app, ["info", "-i", str(copy)])
        assert result.exit_code == 0, result.output
        return " ".join(result.stdout.split())

    assert "verified never: run `relsearch verify`" in info()
    assert runner.invoke(app, ["verify", "-i", str(copy)]).exit_code == 0
    assert "verified ok, all 7 files matched their checksums" in info()
    assert runner.invoke(app, ["info", "-i", str(copy), "--json"]).exit_code == 0


def test_resume_re_checks_kept_shards(tmp_path, built):
    out = tmp_path / "idx"
    with pytest.raises(SimulatedCrash):
        build_index(out, pairs=PAIRS, encoder=FakeEncoder(), shard_size=50, after_shard=crash_after(2))
    flip(shard_path(out, 1))
    encoder = FakeEncoder()
    report = build_index(out, pairs=PAIRS, encoder=encoder, shard_size=50)
    assert report.shards_reused == 2 and encoder.pairs_encoded == 230 - 100  # shards 0 and 2 kept
    for k in range(5):
        assert shard_path(out, k).read_bytes() == shard_path(built, k).read_bytes()
    assert verify_index(out).ok


class NanEncoder(FakeEncoder):
    def encode(self, pairs, **kwargs):
        vectors = super().encode(pairs, **kwargs)
        vectors[len(vectors) // 2] = np.nan
        return vectors


def test_non_finite_vectors_are_refused(tmp_path):
    with pytest.raises(RelsearchError, match=r"non-finite vector \(NaN or inf\) for the pair h25:t16"):
        build_index(tmp_path / "idx", pairs=PAIRS, encoder=NanEncoder(), shard_size=50)
    assert not list((tmp_path / "idx" / "embeddings").glob("part-*.npy"))
    path = tmp_path / "nan.npy"
    np.save(path, np.full((3, 4), np.nan, dtype=np.float16))  # written by something else
    with pytest.raises(DamagedFileError, match="non-finite"):
        read_shard(path, 3, 4, file_record(path), name="nan.npy")


def test_word_vectors_are_checked(tmp_path, tiny_model_dir):
    from relsearch import RelationEncoder

    out = tmp_path / "hybrid"
    build_index(
        out, pairs=PAIRS[:40], encoder=RelationEncoder(tiny_model_dir, word_weight=0.4), shard_size=50
    )
    flip(out / WORD_VECTORS_FILE)
    assert [p.file for p in verify_index(out).problems] == [WORD_VECTORS_FILE]
    index = RelationIndex.load(out)
    with pytest.raises(DamagedFileError, match=r"word_vectors.parquet in .* does not match its checksum"):
        index.vector(("h1", "t14"))  # a new pair of indexed words: the stored word vectors are read


def test_processes_that_read_an_index_exit_cleanly(built):
    """Reading Parquet from a Python buffer made about one process in four abort at exit
    ("terminate called without an active exception"); the files are read by path."""
    code = (
        "import sys; from relsearch import RelationIndex; "
        f"RelationIndex.load({str(built)!r}).search('h1:t7', k=3)"
    )
    for _ in range(8):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr


def test_no_verify_skips_only_the_faiss_checksum(copy):
    flip(copy / FAISS_FILE, where=0.9)  # inside the stored vectors: FAISS still reads it
    assert runner.invoke(app, ["query", "h1:t7", "-i", str(copy)]).exit_code == 1
    assert runner.invoke(app, ["query", "h1:t7", "-i", str(copy), "--no-verify"]).exit_code == 0
    flip(copy / SHARD)
    result = runner.invoke(app, ["query", PAIRS[60][0] + ":" + PAIRS[60][1], "-i", str(copy), "--no-verify"])
    assert result.exit_code == 1 and SHARD in result.stderr  # shards are still checked
