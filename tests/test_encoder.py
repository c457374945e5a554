"""RelationEncoder behaviour: order, batching, normalisation, errors, persistence, offline."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relsearch import InvalidPairError, ModelLoadError, RelationEncoder, TemplateError

POOL = [
    ("barista", "coffee"),
    ("baker", "bread"),
    ("brewer", "beer"),
    ("king", "queen"),
    ("café", "crème brûlée"),
    ("dog", "puppy"),
    ("a", "the relation between king and queen"),
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    order=st.permutations(range(len(POOL))),
    batch_size=st.integers(min_value=1, max_value=9),
    repeats=st.lists(st.integers(0, len(POOL) - 1), max_size=4),
)
def test_vectors_do_not_depend_on_batching_or_order(tiny_encoder, order, batch_size, repeats):
    base = tiny_encoder.encode(POOL, batch_size=len(POOL))
    items = [POOL[i] for i in order] + [POOL[i] for i in repeats]
    got = tiny_encoder.encode(items, batch_size=batch_size)
    want = base[list(order) + list(repeats)]
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_shapes_and_unit_norm(tiny_encoder):
    batch = tiny_encoder.encode(["barista:coffee", ("baker", "bread")])
    assert batch.shape == (2, tiny_encoder.dim) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = tiny_encoder.encode("barista:coffee")
    assert single.shape == (tiny_encoder.dim,)
    np.testing.assert_allclose(single, batch[0], atol=1e-6)
    assert tiny_encoder.encode([]).shape == (0, tiny_encoder.dim)
    raw = tiny_encoder.encode(["barista:coffee"], normalize=False)
    assert np.linalg.norm(raw) > 1.5  # a sum over tokens, not a mean


def test_bfloat16_stays_close_to_float32(tiny_model_dir):
    fp32 = RelationEncoder(tiny_model_dir).encode(POOL)
    bf16 = RelationEncoder(tiny_model_dir, dtype="bfloat16").encode(POOL)
    assert (fp32 * bf16).sum(1).min() > 0.99


def test_bad_pairs_raise_clear_errors(tiny_encoder):
    with pytest.raises(InvalidPairError, match="no separator"):
        tiny_encoder.encode(["barista-coffee"])
    with pytest.raises(InvalidPairError, match="placeholder"):
        tiny_encoder.encode([("<mask>", "x")])


def test_template_without_placeholders_is_rejected(tiny_model_dir):
    with pytest.raises(TemplateError, match="lacks <obj>"):
        RelationEncoder(tiny_model_dir, template="<subj> is a <mask>")
    with pytest.raises(TemplateError, match="unknown pooling"):
        RelationEncoder(tiny_model_dir, aggregation="max")
    with pytest.raises(TemplateError, match=r"needs a template with <mask>"):
        RelationEncoder(tiny_model_dir, template="<subj> and <obj>", aggregation="mask")


def test_long_prompt_is_truncated_with_one_warning(tiny_model_dir, caplog):
    enc = RelationEncoder(tiny_model_dir, max_length=24)
    long_word = " ".join(["coffee"] * 40)
    with caplog.at_level(logging.WARNING, logger="relsearch"):
        vecs = enc.encode([("barista", long_word), ("baker", long_word + " bread")])
    warnings = [r for r in caplog.records if "truncated" in r.getMessage()]
    assert len(warnings) == 1 and "max_length=24" in warnings[0].getMessage()
    assert np.isfinite(vecs).all()


def test_save_round_trip_and_fingerprint(tiny_encoder, tmp_path):
    saved = tiny_encoder.save(tmp_path / "copy")
    config = json.loads((saved / "config.json").read_text())
    assert config["relbert_config"]["aggregation_mode"] == tiny_encoder.aggregation
    assert config["relbert_config"]["template"] == tiny_encoder.template
    again = RelationEncoder(saved)
    np.testing.assert_allclose(again.encode(POOL), tiny_encoder.encode(POOL), atol=1e-6)
    assert again.fingerprint == tiny_encoder.fingerprint
    assert RelationEncoder(saved, template="d").fingerprint != tiny_encoder.fingerprint
    assert RelationEncoder(saved, dtype="bfloat16").fingerprint != tiny_encoder.fingerprint


def test_fingerprint_changes_with_weights(tiny_model_dir, tmp_path):
    from tiny_models import build_tiny_model

    other = build_tiny_model(tmp_path / "other", seed=99, relbert_config={})
    assert RelationEncoder(other).fingerprint != RelationEncoder(tiny_model_dir).fingerprint


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        RelationEncoder(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        RelationEncoder(str(tmp_path / "empty"))


def test_hub_id_offline_fails_fast_with_clear_error(tmp_path):
    code = (
        "from relsearch import RelationEncoder, ModelLoadError\n"
        "try:\n    RelationEncoder('relbert/relbert-roberta-base')\n"
        "except ModelLoadError as e:\n    print('OK', e)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("OK"), proc.stderr[-2000:]
    assert "HF_HUB_OFFLINE is set" in proc.stdout and "config.json" in proc.stdout
    assert time.monotonic() - start < 60


def test_fingerprint_is_independent_of_call_order_and_pooler(tiny_model_dir):
    first = RelationEncoder(tiny_model_dir)
    before = first.fingerprint
    first._fingerprint = first._digest = None
    first.encode(POOL, batch_size=2)
    assert first.fingerprint == before  # truncation state set by encode() is not hashed
    # the tiny checkpoint has no pooler weights, so AutoModel initialises them randomly per load
    assert RelationEncoder(tiny_model_dir).fingerprint == before
