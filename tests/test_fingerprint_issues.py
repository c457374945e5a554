"""Known RelationEncoder.fingerprint issues that break an index's check of its model (strict xfail:
these start failing, i.e. passing, once relsearch/encoding/encoder.py is fixed; then drop the marks)."""

from __future__ import annotations

import pytest
from index_fixtures import *  # noqa: F403  (fixtures)

from relsearch import RelationEncoder


@pytest.mark.xfail(
    strict=True, reason="AutoModel initialises a missing pooler at random; the hash includes it"
)
def test_fingerprint_stable_across_loads_without_pooler(tiny_model_dir):
    assert RelationEncoder(tiny_model_dir).fingerprint == RelationEncoder(tiny_model_dir).fingerprint


@pytest.mark.xfail(
    strict=True, reason="the hash includes the fast tokenizer's truncation state set by encode()"
)
def test_fingerprint_same_after_encoding(index_model_dir):
    used = RelationEncoder(index_model_dir)
    used.encode(["barista:coffee"])
    assert used.fingerprint == RelationEncoder(index_model_dir).fingerprint
