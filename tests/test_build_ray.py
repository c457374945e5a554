"""``build-index --engine ray``: a local Ray with two workers gives the local engine's index, and resumes.

Needs Ray Data (``pip install 'relsearch[ray]'``); without it only the checks that need no Ray run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from crash_hooks import SimulatedCrash, crash_at_first
from fake_encoder import FakeEncoder
from typer.testing import CliRunner

from index_builder.build import build_index
from index_builder.encoder_spec import EncoderSpec
from relsearch import RelationIndex
from relsearch.cli.app import app
from relsearch.errors import IndexFormatError, RelsearchError
from relsearch.index.format import CHECKPOINT_FILE, MANIFEST_FILE

ROOT = Path(__file__).resolve().parents[1]
HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAVE_RAY, reason="Ray is not installed: pip install 'relsearch[ray]' to run the --engine ray tests"
)
FAKE = EncoderSpec("fake_encoder:FakeEncoder", {"dim": 16})
WORDS = [f"w{i}" for i in range(45)]
#: 315 distinct pairs: 5 shards of 64 (the last one 59) in the equality test, 16 of 20 for resuming
PAIRS = [(WORDS[i], WORDS[(7 * i + j) % 45]) for i in range(45) for j in range(1, 8)]


def stable_manifest(out: Path) -> dict:
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    for key in ("created", "build", "files"):  # files: the tiny model's float16 steps differ by engine
        manifest.pop(key)
    manifest["faiss"].pop("seconds")
    return manifest


def shard_files(out: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted((out / "embeddings").glob("part-*.npy"))}


@pytest.fixture(scope="module")
def local_ray():
    """One 2-CPU local Ray for the API tests (``build_index`` reuses an initialised Ray)."""
    import ray

    tests = str(Path(__file__).parent)
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(ROOT), tests])}},
    )
    yield
    ray.shutdown()


# -- without Ray ------------------------------------------------------------------------------------
def test_missing_ray_says_how_to_install_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out = tmp_path / "idx"
    with pytest.raises(RelsearchError, match=r"pip install 'relsearch\[ray\]'"):
        build_index(out, pairs=PAIRS, encoder=FAKE, engine="ray")
    result = CliRunner().invoke(app, ["build-index", "--pairs", str(ROOT / "x.tsv"), "--engine", "ray"])
    assert result.exit_code == 1 and "pip install 'relsearch[ray]'" in result.stderr
    assert not out.exists()


def test_ray_options_are_checked(tmp_path):
    with pytest.raises(RelsearchError, match="apply to --engine ray only"):
        build_index(tmp_path / "a", pairs=PAIRS, encoder=FakeEncoder(), workers=2)
    with pytest.raises(RelsearchError, match="--workers must be at least 1"):
        build_index(tmp_path / "b", pairs=PAIRS, encoder=FAKE, engine="ray", workers=0)


@needs_ray
def test_ray_needs_a_spec_not_a_live_encoder(tmp_path):
    with pytest.raises(RelsearchError, match="EncoderSpec"):
        build_index(tmp_path / "idx", pairs=PAIRS, encoder=FakeEncoder(), engine="ray")
    assert not (tmp_path / "idx").exists()


def test_encoder_spec_builds_by_import_path():
    assert FAKE.create().fingerprint == FakeEncoder(dim=16).fingerprint
    for factory, message in [
        ("fake_encoder", "must look like"),
        ("no_such_module_xyz:Encoder", "cannot import 'no_such_module_xyz'"),
        ("fake_encoder:Missing", "no callable 'Missing'"),
    ]:
        with pytest.raises(RelsearchError, match=message):
            EncoderSpec(factory).create()


def test_shards_not_visible_to_the_driver_are_reported(tmp_path):
    from index_builder.ray_engine import _check_visible
    from relsearch.storage.shard_files import write_shard

    (tmp_path / "embeddings").mkdir()
    write_shard(tmp_path / "embeddings" / "part-00000.npy", np.ones((20, 16), dtype=np.float32) / 4)
    _check_visible(tmp_path, [0], pairs=30, shard_size=20, dim=16)
    with pytest.raises(IndexFormatError, match=r"1 \(first: part-00001.npy\).*copy every node's"):
        _check_visible(tmp_path, [0, 1], pairs=30, shard_size=20, dim=16)


# -- with a local Ray -------------------------------------------------------------------------------
@needs_ray
def test_cli_ray_engine_equals_local_engine(tmp_path, tiny_model_dir):
    """Two Ray workers and the local engine: same pairs, vectors, index and answers (tiny real model)."""
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{h}\t{t}\n" for h, t in PAIRS), encoding="utf-8")
    local, distributed = tmp_path / "local", tmp_path / "ray"
    common = ["build-index", "--pairs", str(pairs), "-m", str(tiny_model_dir), "--shard-size", "64"]
    result = CliRunner().invoke(app, [*common, "--out", str(local)])
    assert result.exit_code == 0, result.output

    cmd = [sys.executable, "-m", "relsearch", *common, "--out", str(distributed), "--engine", "ray"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd += ["--workers", "2"]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "ray: 2 worker(s) on 1 node(s), Ray local" in run.stdout and "pairs/s per worker" in run.stdout
    assert "Running Dataset" not in run.stderr and "ray-data" not in run.stderr  # Ray Data kept quiet
    build = json.loads((distributed / MANIFEST_FILE).read_text())["build"]
    assert build["settings"]["engine"] == "ray" and build["shards_encoded"] == 5
    assert build["ray"]["workers"] == 2 and build["ray"]["pairs_per_worker_second"] > 0
    assert len(build["ray"]["shards_by_worker"]) == 2  # both actors encoded shards
    assert sum(build["ray"]["shards_by_worker"].values()) == 5

    assert (local / "pairs.parquet").read_bytes() == (distributed / "pairs.parquet").read_bytes()
    ours, theirs = shard_files(local), shard_files(distributed)
    assert list(ours) == list(theirs)
    for name in ours:
        a, b = np.load(ours[name]), np.load(theirs[name])
        assert a.dtype == b.dtype == np.float16 and a.shape == b.shape
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=2e-3)  # float16 steps
    assert stable_manifest(local) == stable_manifest(distributed)

    queries = ["w1:w8", "w3:w20", "w10:w12", "cat:milk"]
    a, b = RelationIndex.load(local), RelationIndex.load(distributed)
    for hits_a, hits_b in zip(a.search_batch(queries, k=5), b.search_batch(queries, k=5), strict=True):
        assert [h.pair for h in hits_a] == [h.pair for h in hits_b]
        np.testing.assert_allclose([h.score for h in hits_a], [h.score for h in hits_b], atol=1e-3)


@needs_ray
def test_interrupted_ray_build_resumes_without_re_encoding(tmp_path, local_ray):
    clean, out = tmp_path / "clean", tmp_path / "idx"
    build_index(clean, pairs=PAIRS, encoder=FakeEncoder(dim=16), shard_size=20)

    # the driver stops right after recording the first shard a worker reports
    with pytest.raises(SimulatedCrash):
        build_index(
            out,
            pairs=PAIRS,
            encoder=FAKE,
            shard_size=20,
            engine="ray",
            workers=2,
            after_shard=crash_at_first(),
        )
    assert (out / "embeddings" / CHECKPOINT_FILE).exists() and not (out / MANIFEST_FILE).exists()
    recorded = [
        name.split("/")[-1]
        for name in json.loads((out / "embeddings" / CHECKPOINT_FILE).read_text())["files"]
        if name.startswith("embeddings/")
    ]
    assert len(recorded) == 1  # shards written but not yet recorded are encoded again
    before = {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in shard_files(out).items()}

    report = build_index(out, pairs=PAIRS, encoder=FAKE, shard_size=20, engine="ray", workers=2)
    assert report.shards_reused == 1 and report.shards_encoded == 15
    after = shard_files(out)
    assert (after[recorded[0]].stat().st_ino, after[recorded[0]].stat().st_mtime_ns) == before[recorded[0]]
    for name in ("pairs.parquet", "index.faiss"):
        assert (out / name).read_bytes() == (clean / name).read_bytes()
    expected = shard_files(clean)
    assert list(after) == list(expected)
    assert all(after[name].read_bytes() == expected[name].read_bytes() for name in after)
    assert stable_manifest(out) == stable_manifest(clean)
    assert not (out / "embeddings" / CHECKPOINT_FILE).exists()


@needs_ray
def test_worker_with_another_model_fails_clearly(tmp_path, local_ray):
    spec = EncoderSpec("ray_encoders:other_model_in_workers", {"driver_pid": os.getpid(), "dim": 16})
    with pytest.raises(RelsearchError, match=r"a Ray worker failed: .*fingerprint .* not the driver's"):
        build_index(tmp_path / "idx", pairs=PAIRS, encoder=spec, shard_size=100, engine="ray", workers=2)


@needs_ray
def test_more_workers_than_cluster_cpus_is_refused(tmp_path, local_ray):
    with pytest.raises(RelsearchError, match="--workers 3 needs 3 CPUs but the Ray cluster"):
        build_index(tmp_path / "idx", pairs=PAIRS, encoder=FAKE, shard_size=100, engine="ray", workers=3)
