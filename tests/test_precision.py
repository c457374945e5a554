"""Inference precision: dtype resolution, CPU feature detection, the int8 path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from relsearch import RelationEncoder, RelsearchError
from relsearch.encoding import precision
from relsearch.encoding.cpu_features import CpuFeatures, cpuinfo_flags
from relsearch.encoding.int8 import RECIPE, Int8Linear

PAIRS = [
    ("barista", "coffee"),
    ("baker", "bread"),
    ("king", "queen"),
    ("dog", "puppy"),
    ("paris", "france"),
    ("hot", "cold"),
    ("a", "the relation between king and queen"),
]


def _centred_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosines after removing the mean vector (which dominates the tiny model's raw cosines)."""
    a, b = a - a.mean(0), b - b.mean(0)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_int8_linear_is_close_and_outlier_tokens_stay_local():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48)
    x = torch.randn(3, 20, 64)
    x[1, 7, 5] = 300.0  # one token with a massive activation, as in real encoders
    layer = Int8Linear(linear, x.abs().reshape(-1, 64).amax(0))
    with torch.no_grad():
        want, got = linear(x), layer(x)
    assert got.shape == want.shape and got.dtype == torch.float32
    err = (got - want).norm(dim=-1) / want.norm(dim=-1)
    # per-token scales: the outlier token does not coarsen the other 59 tokens
    assert float(err.max()) < 0.06, float(err.max())  # one scale for all tokens: ~0.5
    assert not torch.equal(got, want)


def test_outlier_channels_run_in_float32_and_cut_the_error():
    torch.manual_seed(0)
    linear = torch.nn.Linear(400, 32)
    x = torch.randn(2, 30, 400)
    x[..., 9] *= 60.0  # a channel with large activations in every token
    act_max = x.abs().reshape(-1, 400).amax(0)
    plain = Int8Linear(linear, act_max, outlier_fraction=0.0)
    split = Int8Linear(linear, act_max, outlier_fraction=0.01)
    assert plain.outliers is None and 9 in split.outliers.tolist() and len(split.outliers) == 4
    with torch.no_grad():
        want = linear(x)
        errors = [float(((q(x) - want).norm(dim=-1) / want.norm(dim=-1)).mean()) for q in (plain, split)]
    assert errors[1] < 0.6 * errors[0], errors


def test_int8_encoder_runs_int8_and_stays_close(tiny_model_dir, tiny_encoder):
    enc = RelationEncoder(tiny_model_dir, dtype="int8")
    got = enc.encode(PAIRS)
    assert got.shape == (len(PAIRS), enc.dim) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert any(isinstance(m, Int8Linear) for m in enc.runner.modules())
    assert not any(isinstance(m, Int8Linear) for m in enc.model.modules())  # float weights kept
    want = tiny_encoder.encode(PAIRS)
    assert not np.array_equal(got, want)
    assert _centred_cosines(got, want).min() > 0.98


def test_int8_vectors_do_not_depend_on_batching(tiny_model_dir):
    enc = RelationEncoder(tiny_model_dir, dtype="int8")
    whole = enc.encode(PAIRS, batch_size=len(PAIRS))
    one_by_one = enc.encode(PAIRS[::-1], batch_size=1)[::-1]
    np.testing.assert_allclose(one_by_one, whole, atol=2e-5)  # per-token scales: rows are independent


def test_float32_runs_the_model_itself(tiny_encoder):
    assert tiny_encoder.dtype == "float32" and tiny_encoder.runner is tiny_encoder.model


def test_auto_resolves_to_a_concrete_dtype(tiny_model_dir, tmp_path, monkeypatch):
    # no calibration cached for this model (other tests' builds calibrate it): CPU flags decide
    monkeypatch.setenv("RELSEARCH_CALIBRATION_FILE", str(tmp_path / "none.json"))
    enc = RelationEncoder(tiny_model_dir, dtype="auto")
    assert enc.dtype in ("float32", "bfloat16", "int8")
    assert enc.dtype == precision.resolve_dtype("auto", torch.device("cpu"))
    assert enc.describe()["dtype"] == enc.dtype
    assert enc.fingerprint == RelationEncoder(tiny_model_dir, dtype=enc.dtype).fingerprint


def test_fingerprint_differs_by_dtype(tiny_model_dir, tiny_encoder):
    prints = {d: RelationEncoder(tiny_model_dir, dtype=d).fingerprint for d in ("bfloat16", "int8")}
    prints["float32"] = tiny_encoder.fingerprint
    assert len(set(prints.values())) == 3
    assert precision.fingerprint_tag("float32") == "float32"  # float32 fingerprints unchanged
    assert RECIPE in precision.fingerprint_tag("int8")


@pytest.mark.parametrize(
    ("bf16", "int8_dot", "want"),
    [(True, True, "bfloat16"), (False, True, "int8"), (False, False, "float32")],
)
def test_auto_follows_cpu_features(monkeypatch, bf16, int8_dot, want):
    features = CpuFeatures(bf16=bf16, int8_dot=int8_dot, amx=False, flags=frozenset())
    monkeypatch.setattr(precision, "cpu_features", lambda: features)
    assert precision.resolve_dtype("auto", torch.device("cpu")) == want
    assert precision.resolve_dtype("float32", torch.device("cpu")) == "float32"


def test_bad_dtypes_are_refused(tiny_model_dir):
    with pytest.raises(RelsearchError, match="unknown dtype 'fp8'"):
        RelationEncoder(tiny_model_dir, dtype="fp8")
    with pytest.raises(RelsearchError, match="CPU only"):
        precision.resolve_dtype("int8", torch.device("cuda"))


def test_cpuinfo_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_vnni\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpuinfo_flags(info) == {"fpu", "avx512f", "avx512_vnni"}
    assert cpuinfo_flags(tmp_path / "missing") == frozenset()


def test_cli_dtype_choices_match_the_library(tiny_model_dir, tiny_encoder):
    import json
    import typing

    from typer.testing import CliRunner

    from relsearch.cli.app import app
    from relsearch.cli.options import Dtype

    assert typing.get_args(Dtype) == precision.DTYPES
    runner = CliRunner()
    args = ["encode", "barista:coffee", "baker:bread", "-m", str(tiny_model_dir), "--json"]
    result = runner.invoke(app, [*args, "--dtype", "int8"])
    assert result.exit_code == 0, result.output
    got = np.array([row["vector"] for row in json.loads(result.stdout)])
    want = RelationEncoder(tiny_model_dir, dtype="int8").encode(["barista:coffee", "baker:bread"])
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert runner.invoke(app, [*args, "--dtype", "fp8"]).exit_code == 2
