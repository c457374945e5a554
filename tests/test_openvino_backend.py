"""The OpenVINO backend and ``auto`` by calibration: same vectors, export cache, consistent queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_models import build_tiny_model
from typer.testing import CliRunner

from index_builder.build import build_index
from relsearch import RelationEncoder
from relsearch.cli.app import app
from relsearch.encoding import backend as backends
from relsearch.errors import RelsearchError
from relsearch.index.relation_index import RelationIndex
from relsearch.templates import TEMPLATES

pytest.importorskip("openvino")

MASK = {"aggregation_mode": "mask", "template": TEMPLATES["a"]}
PAIRS = [("king", "queen"), ("dog", "puppy"), ("paris", "france"), ("a", "b")]
LONG = [("encyclopedia relation dog", "puppy kitten cat relation encyclopedia"), ("cat", "kitten")]
WORDS = "barista\ncoffee\nbaker\nbread\nbrewer\nbeer\nking\nqueen\ndog\npuppy\ncat\nkitten\n"
BLOCK_OPENVINO = "import sys; sys.modules['openvino'] = None\n"  # what a machine without the extra sees


@pytest.fixture(scope="module")
def mask_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("ov") / "m", relbert_config=MASK, seed=4)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_openvino_vectors_equal_torch_ones(mask_model, dtype):
    torch_enc = RelationEncoder(mask_model)
    ov_enc = RelationEncoder(mask_model, backend="openvino", dtype=dtype)
    for pairs in (PAIRS, LONG + PAIRS):  # one batch with much padding, too
        cos = np.sum(torch_enc.encode(pairs) * ov_enc.encode(pairs), axis=1)
        assert cos.min() >= 0.999
    assert ov_enc.describe()["backend"] == "openvino"
    assert ov_enc.fingerprint != torch_enc.fingerprint  # an index records how it was encoded
    assert ov_enc.content_fingerprint == torch_enc.content_fingerprint


def test_export_cache_is_keyed_by_the_model(mask_model, tmp_path):
    first = RelationEncoder(mask_model, backend="openvino", dtype="float32")
    first.encode(PAIRS)
    xml = first._ov.path / "model.xml"
    stamp = xml.stat().st_mtime_ns
    again = RelationEncoder(mask_model, backend="openvino", dtype="bfloat16")
    again.encode(PAIRS)
    assert again._ov.path == first._ov.path and xml.stat().st_mtime_ns == stamp  # reused, not re-exported
    other = build_tiny_model(tmp_path / "other", relbert_config=MASK, seed=5)
    changed = RelationEncoder(other, backend="openvino", dtype="float32")
    changed.encode(PAIRS)
    assert changed._ov.path != first._ov.path


def test_calibration_picks_a_gated_candidate_and_is_cached(mask_model):
    enc = RelationEncoder(mask_model)
    entry = backends.calibrate(enc, backends.calibration_pairs(64))
    measured = {(r["backend"], r["dtype"]): r for r in entry["measured"]}
    assert ("openvino", "float32") in measured and ("torch", "float32") in measured
    chosen = measured[(entry["backend"], entry["dtype"])]
    assert chosen["passes"]
    assert chosen["pairs_per_second"] == max(r["pairs_per_second"] for r in measured.values() if r["passes"])
    assert (enc.backend, enc.dtype) == (entry["backend"], entry["dtype"])
    later = RelationEncoder(mask_model, backend="auto", dtype="auto")  # a new process would see the cache
    assert (later.backend, later.dtype) == (entry["backend"], entry["dtype"])
    pinned = RelationEncoder(mask_model, backend="torch", dtype="auto")
    assert pinned.backend == "torch"


def test_bad_backend_requests_raise(mask_model):
    with pytest.raises(RelsearchError, match="unknown backend"):
        RelationEncoder(mask_model, backend="tensorrt")
    with pytest.raises(RelsearchError, match="float32 or bfloat16"):
        RelationEncoder(mask_model, backend="openvino", dtype="int8")


def test_index_built_with_openvino_encodes_new_pairs_with_openvino(tmp_path, mask_model):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text(WORDS)
    out = tmp_path / "idx"
    build_index(vocab=vocab, out_dir=out, model=str(mask_model), k=2, backend="openvino", dtype="float32")
    index = RelationIndex.load(out)
    assert index.manifest["encoder"]["backend"] == "openvino"
    new = index.vector("tokyo:japan")  # not in the index: encoded the way the index was built
    assert index.encoder.backend == "openvino"
    ref = RelationEncoder(mask_model, backend="openvino", dtype="float32").encode("tokyo:japan")
    np.testing.assert_allclose(new, ref, atol=1e-6)
    info = CliRunner().invoke(app, ["info", "--index", str(out)])
    assert "openvino float32 (as requested)" in info.output
    code = BLOCK_OPENVINO + (
        "from relsearch.index.relation_index import RelationIndex\n"
        f"index = RelationIndex.load({str(out)!r})\n"
        "try:\n    index.vector('tokyo:japan')\nexcept Exception as exc:\n    print('ERR', exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "ERR" in proc.stdout and "relsearch[openvino]" in proc.stdout, proc.stderr[-2000:]


def test_auto_without_the_extra_calibrates_torch_only_and_says_so(tmp_path, mask_model):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text(WORDS)
    out = tmp_path / "idx"
    env = {**os.environ, "RELSEARCH_CALIBRATION_FILE": str(tmp_path / "cal.json")}
    code = BLOCK_OPENVINO + (
        "from index_builder.build import build_index\n"
        f"build_index(vocab={str(vocab)!r}, out_dir={str(out)!r}, model={str(mask_model)!r}, k=2)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cal = json.loads((tmp_path / "cal.json").read_text())
    (entry,) = cal.values()
    assert {r["backend"] for r in entry["measured"]} == {"torch"} and entry["backend"] == "torch"
    info = CliRunner().invoke(app, ["info", "--index", str(out)])
    assert "calibrated on" in info.output and "torch" in info.output


@pytest.mark.parametrize("separate_word_model", [False, True])
def test_word_vectors_run_through_openvino_too(mask_model, tmp_path, separate_word_model):
    """With the OpenVINO backend a pair of unseen words needs no torch pass: its word vectors
    come from an OpenVINO export of the word model, equal to torch's float32 ones."""
    config = {**MASK, "word_difference_weight": 0.5}
    if separate_word_model:
        config["word_model"] = str(build_tiny_model(tmp_path / "words", seed=9))
    model = build_tiny_model(tmp_path / "hybrid", relbert_config=config, seed=4)
    words = ["barista", "coffee", "encyclopedia", "a"]
    torch_enc = RelationEncoder(model)
    for dtype in ("float32", "bfloat16"):
        ov_enc = RelationEncoder(model, backend="openvino", dtype=dtype)
        cos = np.sum(torch_enc.encode_words(words) * ov_enc.encode_words(words), axis=1)
        assert cos.min() >= 0.999
        assert ov_enc._ov_words is not None and ov_enc._ov_words.path.name.endswith("-words")
        hybrid = np.sum(torch_enc.encode(LONG + PAIRS) * ov_enc.encode(LONG + PAIRS), axis=1)
        assert hybrid.min() >= 0.999
    assert ov_enc._ov_words.path != ov_enc._ov.path  # prompt pooling and word pooling: two exports


def test_candidate_word_vectors_use_the_builds_backend(mask_model, tmp_path, monkeypatch):
    from index_builder.word_model import word_vectors

    monkeypatch.setenv("RELSEARCH_OPENVINO_DIR", str(tmp_path / "ov-cache"))
    base = build_tiny_model(tmp_path / "base", seed=11)
    words = WORDS.split()
    reference = word_vectors(words, str(base), RelationEncoder(mask_model), batch_size=8)
    ov_build = RelationEncoder(mask_model, backend="openvino", dtype="bfloat16")
    fast = word_vectors(words, str(base), ov_build, batch_size=8)
    assert np.sum(reference * fast, axis=1).min() >= 0.999
    assert any(p.name.endswith("-words") for p in (tmp_path / "ov-cache").iterdir())  # ran in OpenVINO
