"""``relsearch build-index`` through the CLI: output, exit codes, bad input, Ctrl-C and kill -9."""

from __future__ import annotations

import functools
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from crash_hooks import interrupt_after
from typer.testing import CliRunner

from index_builder import build as build_module
from index_builder.build import build_index
from relsearch.cli.app import app
from relsearch.index.format import read_manifest

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
WORDS = "barista\ncoffee\nbaker\nbread\nbrewer\nbeer\nking\nqueen\ndog\npuppy\ncat\nkitten\n"


@pytest.fixture
def vocab(tmp_path) -> Path:
    path = tmp_path / "vocab.txt"
    path.write_text("# test vocabulary\n" + WORDS)
    return path


@pytest.fixture(scope="module")
def built_index(tmp_path_factory, tiny_model_dir) -> Path:
    """A complete index to protect from bad commands."""
    tmp = tmp_path_factory.mktemp("built")
    (tmp / "vocab.txt").write_text(WORDS)
    out = tmp / "idx"
    result = runner.invoke(
        app, ["build-index", str(tmp / "vocab.txt"), "--out", str(out), "-m", str(tiny_model_dir), "--k", "2"]
    )
    assert result.exit_code == 0, result.output
    return out


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_build_prints_a_summary_and_json(tmp_path, vocab, tiny_model_dir, built_index):
    out = tmp_path / "idx"
    args = ["build-index", str(vocab), "--out", str(out), "-m", str(tiny_model_dir), "--k", "2", "--json"]
    result = runner.invoke(app, [*args, "--shard-size", "5"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (
        report["pairs"] == read_manifest(out)["counts"]["pairs"]
        and report["shards_encoded"] == report["shards"]
    )
    assert report["input"]["duplicates_dropped"] == 0 and report["faiss"]["factory"] == "Flat"
    text = runner.invoke(
        app, ["build-index", str(vocab), "-m", str(tiny_model_dir), "--out", str(built_index)]
    )
    assert text.exit_code == 1 and "--overwrite" in text.stderr


def test_default_out_dir_comes_from_the_environment(tmp_path, vocab, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("RELSEARCH_INDEX", str(tmp_path / "env-idx"))
    result = runner.invoke(app, ["build-index", str(vocab), "-m", str(tiny_model_dir), "--k", "1"])
    assert result.exit_code == 0, result.output
    assert "pairs:" in result.stdout and "recall@10 1.0000" in result.stdout
    assert read_manifest(tmp_path / "env-idx")["input"]["k"] == 1


def test_dry_run(tmp_path, vocab, tiny_model_dir):
    out = tmp_path / "idx"
    result = runner.invoke(
        app, ["build-index", str(vocab), "-m", str(tiny_model_dir), "--out", str(out), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    for text in (
        "pairs:",
        "index: Flat",
        "estimated encoding time",
        "pairs/s measured",
        "peak memory",
        "disk",
    ):
        assert text in result.stdout
    assert not out.exists()


BAD_VOCABS = {
    "missing": (None, "does not exist"),
    "empty": (b"\n# nothing\n", "holds no words"),
    "one word": (b"barista\n", "only one word"),
    "not utf-8": (b"barista\ncaf\xe9\n", "line 2 is not valid UTF-8"),
    "tab": (b"barista\tcoffee\n", "line 1 contains a tab"),
    "control": (b"barista\ncof\x1bfee\n", "control character"),
    "placeholder": (b"barista\n<obj>\n", "placeholder '<obj>'"),
}


@pytest.mark.parametrize("case", sorted(BAD_VOCABS))
def test_bad_vocabulary_exits_1_and_keeps_the_index(tmp_path, case, tiny_model_dir, built_index):
    data, message = BAD_VOCABS[case]
    path = tmp_path / "vocab.txt"
    if data is not None:
        path.write_bytes(data)
    before = snapshot(built_index)
    args = ["build-index", str(path), "--out", str(built_index), "--overwrite", "-m", str(tiny_model_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.output
    assert snapshot(built_index) == before


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("p.csv", b"x,y\nbarista,coffee\n", "needs a header row"),
        ("p.tsv", b"barista\ncoffee\n", "has one column"),
    ],
)
def test_pairs_file_without_usable_columns(tmp_path, name, data, message, built_index, tiny_model_dir):
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot(built_index)
    args = [
        "build-index",
        "--pairs",
        str(path),
        "--out",
        str(built_index),
        "--overwrite",
        "-m",
        str(tiny_model_dir),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and message in result.stderr
    assert snapshot(built_index) == before


def test_foreign_out_dir_and_usage_errors(tmp_path, vocab, tiny_model_dir):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("1,2")
    result = runner.invoke(app, ["build-index", str(vocab), "--out", str(mine), "--overwrite"])
    assert result.exit_code == 1 and "not a relsearch index" in result.stderr
    assert (mine / "data.csv").read_text() == "1,2"
    assert runner.invoke(app, ["build-index"]).exit_code == 2
    both = runner.invoke(app, ["build-index", str(vocab), "--pairs", str(vocab)])
    assert both.exit_code == 2 and "exactly one of VOCAB and --pairs" in both.stderr
    engine = runner.invoke(app, ["build-index", str(vocab), "--engine", "dask", "--out", str(tmp_path / "x")])
    assert engine.exit_code == 1 and "unknown engine 'dask'" in engine.stderr


def test_ctrl_c_prints_how_to_resume_and_exits_130(tmp_path, vocab, tiny_model_dir, monkeypatch):
    out = tmp_path / "idx"

    monkeypatch.setattr(
        build_module, "build_index", functools.partial(build_index, after_shard=interrupt_after(1))
    )
    args = ["build-index", str(vocab), "--out", str(out), "-m", str(tiny_model_dir), "--shard-size", "4"]
    result = runner.invoke(app, args)
    assert result.exit_code == 130
    assert (
        "2 complete shard(s) are kept" in result.stderr
        and "run the same command again" in result.stderr.lower()
    )
    monkeypatch.undo()
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["shards_reused"] == 2


def test_kill_9_then_resume_equals_a_clean_build(tmp_path, vocab, tiny_model_dir, tiny_encoder):
    out = tmp_path / "idx"
    args = ["build-index", str(vocab), "--out", str(out)]
    args += ["-m", str(tiny_model_dir), "--k", "3", "--shard-size", "6", "--dtype", "float32", "--json"]
    killer = [sys.executable, str(ROOT / "tests" / "crash_hooks.py"), "1"]
    killed = subprocess.run([*killer, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (out / "relsearch.json").exists()
    cmd = [sys.executable, "-m", "relsearch", *args]
    resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["shards_reused"] == 2

    clean = tmp_path / "clean"
    build_index(clean, vocab=vocab, encoder=tiny_encoder, k=3, shard_size=6)
    assert pq.read_table(out / "pairs.parquet").equals(pq.read_table(clean / "pairs.parquet"))
    shards = sorted(p.name for p in (clean / "embeddings").glob("part-*.npy"))
    assert shards == sorted(p.name for p in (out / "embeddings").glob("part-*.npy"))
    for name in shards:
        np.testing.assert_array_equal(
            np.load(out / "embeddings" / name), np.load(clean / "embeddings" / name)
        )


def test_help_does_not_import_torch_or_faiss():
    code = (
        "import sys; from relsearch.cli.app import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['build-index', '--help']); assert r.exit_code == 0, r.output; "
        "heavy = ('torch', 'transformers', 'faiss', 'index_builder.build'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
