"""``relsearch add`` / ``remove``: only new pairs are encoded, the result equals a one-shot build,
and a kill -9 at any point leaves the old index readable and the same command finishes the job."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from fake_encoder import FakeEncoder
from typer.testing import CliRunner

from index_builder.build import build_index
from index_builder.update import add_pairs, remove_pairs
from relsearch import RelationIndex
from relsearch.cli.app import app
from relsearch.errors import DataFormatError, DiskFullError, IndexLockedError, RelsearchError
from relsearch.index.verify import verify_index
from relsearch.storage import shard_files as shard_files_module
from relsearch.storage.layout import MANIFEST_FILE
from relsearch.storage.lock import IndexLock
from relsearch.storage.manifest import IndexPaths

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
PAIRS = [(f"h{i}", f"t{(7 * i) % 53}") for i in range(230)]
QUERIES = ["h1:t7", "h100:t11", "h200:t22", "new:pair"]


def build(out: Path, pairs, **kwargs):
    kwargs.setdefault("encoder", FakeEncoder())
    kwargs.setdefault("shard_size", 50)
    return build_index(out, pairs=pairs, **kwargs)


def generation(index: Path) -> tuple[IndexPaths, dict]:
    manifest = json.loads((index / MANIFEST_FILE).read_text())
    return IndexPaths.from_manifest(manifest), manifest


def assert_same_index(a: Path, b: Path, *, atol: float = 0.0) -> None:
    """Same pairs and metadata (Parquet), same vectors, same answers."""
    (pa_, _), (pb, _) = generation(a), generation(b)
    ta, tb = pq.read_table(a / pa_.pairs), pq.read_table(b / pb.pairs)
    assert ta.to_pylist() == tb.to_pylist()
    assert len(pa_.shards) == len(pb.shards)
    for x, y in zip(pa_.shards, pb.shards, strict=True):
        va, vb = np.load(a / x), np.load(b / y)
        if atol:
            np.testing.assert_allclose(va.astype(np.float32), vb.astype(np.float32), atol=atol)
        else:
            assert va.tobytes() == vb.tobytes()
    ia, ib = RelationIndex.load(a), RelationIndex.load(b)
    for hits_a, hits_b in zip(
        ia.search_batch(QUERIES[:3], k=5), ib.search_batch(QUERIES[:3], k=5), strict=True
    ):
        assert [h.pair for h in hits_a] == [h.pair for h in hits_b]
    assert verify_index(a, record=False).ok


def test_add_encodes_only_new_pairs_and_equals_a_one_shot_build(tmp_path):
    out, once = tmp_path / "idx", tmp_path / "once"
    build(out, PAIRS[:130])  # 3 shards, the last holding 30 of 50
    encoder = FakeEncoder()
    report = add_pairs(out, pairs=PAIRS[100:], encoder=encoder)
    assert (report.changed, report.skipped, report.pairs) == (100, 30, 230)
    assert encoder.pairs_encoded == 100 and report.pairs_encoded == 100
    assert report.faiss == "added 100 vectors" and report.generation == 1
    build(once, PAIRS)
    assert_same_index(out, once)
    paths, manifest = generation(out)
    assert paths.shards[:2] == ("embeddings/part-00000.npy", "embeddings/part-00001.npy")  # untouched
    assert paths.shards[2] == "embeddings/part-00002.g1.npy"  # the partial shard, rows copied
    assert (out / paths.faiss).read_bytes() == (once / "index.faiss").read_bytes()
    assert manifest["updates"][0]["added"] == 100 and manifest["counts"]["pairs"] == 230
    assert not (out / "pairs.parquet").exists() and not (out / "index.faiss").exists()  # old generation gone
    again = add_pairs(out, pairs=PAIRS[:5], encoder=FakeEncoder())
    assert (again.changed, again.skipped) == (0, 5) and generation(out)[1]["generation"] == 1


def test_remove_counts_missing_pairs_and_equals_a_one_shot_build(tmp_path):
    out, once = tmp_path / "idx", tmp_path / "once"
    build(out, PAIRS)
    gone = [*PAIRS[120:125], ("not", "here")]
    report = remove_pairs(out, pairs=gone)
    assert (report.changed, report.skipped, report.pairs, report.faiss) == (5, 1, 225, "refilled")
    build(once, PAIRS[:120] + PAIRS[125:])
    assert_same_index(out, once)
    paths, _ = generation(out)
    assert paths.shards[:2] == ("embeddings/part-00000.npy", "embeddings/part-00001.npy")
    before = (out / MANIFEST_FILE).read_bytes()
    with pytest.raises(RelsearchError, match=r"none of the 2 pair\(s\) .* is in the index .*nothing changed"):
        remove_pairs(out, pairs=[("not", "here"), PAIRS[121]])
    assert (out / MANIFEST_FILE).read_bytes() == before


def test_add_retrains_when_the_builder_would_now_choose_another_index(tmp_path):
    out, once = tmp_path / "idx", tmp_path / "once"
    build(out, PAIRS[:130], memory_budget=10_000)  # Flat fits at 130 pairs, not at 230
    assert generation(out)[1]["faiss"]["factory"] == "Flat"
    report = add_pairs(out, pairs=PAIRS[130:], encoder=FakeEncoder())
    assert report.faiss == "retrained (Flat -> SQ8)"
    build(once, PAIRS, memory_budget=10_000)
    assert generation(out)[1]["faiss"]["factory"] == "SQ8"
    assert_same_index(out, once)


def test_add_keeps_metadata_columns_and_refuses_unknown_ones(tmp_path):
    first, second, extra = tmp_path / "a.tsv", tmp_path / "b.tsv", tmp_path / "c.tsv"
    first.write_text("head\ttail\tsource\nbaker\tbread\tmanual\n")
    second.write_text("head\ttail\tsource\nbrewer\tbeer\tlater\nbaker\tbread\tagain\n")
    extra.write_text("head\ttail\tsource\tscore\nking\tqueen\tx\t1\n")
    out = tmp_path / "idx"
    build_index(out, pairs=first, encoder=FakeEncoder())
    report = add_pairs(out, pairs=second, encoder=FakeEncoder())
    assert (report.changed, report.skipped) == (1, 1)
    index = RelationIndex.load(out)
    assert index.table.rows([0, 1]) == [{"source": "manual"}, {"source": "later"}]
    with pytest.raises(DataFormatError, match=r"column\(s\) score that the index lacks"):
        add_pairs(out, pairs=extra, encoder=FakeEncoder())
    with pytest.raises(RelsearchError, match="not the index's"):
        add_pairs(out, pairs=[("a", "b")], encoder=FakeEncoder(seed=5))


def test_api_add_and_remove_reload_the_index(tmp_path):
    index = RelationIndex.build(tmp_path / "idx", pairs=PAIRS[:100], encoder=FakeEncoder(), shard_size=50)
    assert index.add(PAIRS[100:120], encoder=FakeEncoder()).changed == 20
    assert len(index) == 120 and PAIRS[110] in index
    assert index.remove(PAIRS[:3]).changed == 3
    assert len(index) == 117 and PAIRS[0] not in index and PAIRS[110] in index


def test_disk_full_while_writing_a_shard_leaves_the_index_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "idx"
    build(out, PAIRS[:100])
    before = (out / MANIFEST_FILE).read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shard_files_module.np, "save", full)
    with pytest.raises(DiskFullError, match=r"no space left on the device of .*embeddings .*free some space"):
        add_pairs(out, pairs=PAIRS[100:], encoder=FakeEncoder())
    monkeypatch.undo()
    assert (out / MANIFEST_FILE).read_bytes() == before
    assert len(RelationIndex.load(out)) == 100 and verify_index(out, record=False).ok
    assert add_pairs(out, pairs=PAIRS[100:], encoder=FakeEncoder()).changed == 130


def test_update_of_a_locked_index_is_refused(tmp_path):
    out = tmp_path / "idx"
    build(out, PAIRS[:60])
    with IndexLock(out, "another writer"):
        with pytest.raises(IndexLockedError, match=rf"pid {os.getpid()} .*another writer"):
            add_pairs(out, pairs=PAIRS[60:], encoder=FakeEncoder())
        with pytest.raises(IndexLockedError):
            remove_pairs(out, pairs=PAIRS[:2])


# -- kill -9 through the CLI, with the tiny real model ----------------------------------------------------
@pytest.fixture
def tiny_build(tmp_path, tiny_model_dir):
    """Build ``first`` (130 pairs) through the CLI; files for the rest."""
    first, rest, everything = tmp_path / "first.tsv", tmp_path / "rest.tsv", tmp_path / "all.tsv"
    first.write_text("".join(f"{h}\t{t}\n" for h, t in PAIRS[:130]))
    rest.write_text("".join(f"{h}\t{t}\n" for h, t in PAIRS[100:]))
    everything.write_text("".join(f"{h}\t{t}\n" for h, t in PAIRS))

    def cli_build(out: Path, pairs: Path) -> None:
        args = ["build-index", "--pairs", str(pairs), "--out", str(out), "-m", str(tiny_model_dir)]
        result = runner.invoke(app, [*args, "--shard-size", "20", "--dtype", "float32"])
        assert result.exit_code == 0, result.output

    return cli_build, first, rest, everything


def killed(shard: int, args: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "tests" / "crash_hooks.py"), str(shard), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_kill_9_during_add_then_the_same_command_equals_a_one_shot_build(tmp_path, tiny_build):
    cli_build, first, rest, everything = tiny_build
    out, once = tmp_path / "idx", tmp_path / "once"
    cli_build(out, first)
    before = (out / MANIFEST_FILE).read_bytes()
    args = ["add", "--pairs", str(rest), "-i", str(out)]
    assert killed(8, args).returncode == -signal.SIGKILL  # shards 6 (partial, copied), 7, 8 written
    assert (out / MANIFEST_FILE).read_bytes() == before  # the old index, whole
    assert len(RelationIndex.load(out)) == 130 and verify_index(out, record=False).ok
    finished = subprocess.run(
        [sys.executable, "-m", "relsearch", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["shards_reused"] == 3 and report["changed"] == 100 and report["skipped"] == 30
    cli_build(once, everything)
    assert_same_index(out, once, atol=2e-3)  # the copied partial shard's new rows: other batches


def test_kill_9_during_remove_then_the_same_command_finishes_it(tmp_path, tiny_build):
    cli_build, _, _, everything = tiny_build
    out, once = tmp_path / "idx", tmp_path / "once"
    cli_build(out, everything)
    gone = tmp_path / "gone.tsv"
    gone.write_text("".join(f"{h}\t{t}\n" for h, t in PAIRS[45:50]))
    args = ["remove", "--pairs", str(gone), "-i", str(out)]
    assert killed(4, args).returncode == -signal.SIGKILL
    assert len(RelationIndex.load(out)) == 230
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "removed 5 pair(s); 0 were not in the index" in again.stdout
    kept = tmp_path / "kept.tsv"
    kept.write_text("".join(f"{h}\t{t}\n" for h, t in PAIRS[:45] + PAIRS[50:]))
    cli_build(once, kept)
    assert_same_index(out, once)
    assert runner.invoke(app, args).exit_code == 1  # a third time: nothing left to remove
