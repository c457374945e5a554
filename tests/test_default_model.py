"""Slow: the shipped default model loads offline and reproduces its recorded U2 test accuracy."""

from __future__ import annotations

import json

import pytest

from relsearch.default_model import DATA_DIR, SHIPPED_MODEL_DIR

pytestmark = pytest.mark.slow

EVAL_FILE = SHIPPED_MODEL_DIR / "eval.json"


@pytest.mark.skipif(not EVAL_FILE.exists(), reason="no shipped model evaluation recorded")
def test_shipped_model_matches_its_model_card_on_u2(monkeypatch):
    from relsearch import RelationEncoder
    from relsearch.evaluation.analogy import evaluate_analogies, load_analogy_questions

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    recorded = {r["dataset"]: r for r in json.loads(EVAL_FILE.read_text())["results"]}["u2"]
    encoder = RelationEncoder()  # the default model
    assert encoder.source == str(SHIPPED_MODEL_DIR.resolve())
    questions = load_analogy_questions(DATA_DIR / "analogy" / "u2" / "test.jsonl")
    result = evaluate_analogies(questions, lambda pairs: encoder.encode(pairs, batch_size=64))
    assert result.n == recorded["n"] == 228
    assert abs(100 * result.accuracy - 100 * recorded["accuracy"]) <= 0.5
    model_card = (SHIPPED_MODEL_DIR / "README.md").read_text()
    assert f"{100 * recorded['accuracy']:.1f}" in model_card
