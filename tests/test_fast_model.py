"""Slow: the shipped fast model resolves offline as ``--model fast`` and reproduces its card's U2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from relsearch.default_model import DATA_DIR, FAST_MODEL_DIR, SHIPPED_MODEL_DIR

pytestmark = pytest.mark.slow

EVAL_FILE = FAST_MODEL_DIR / "eval.json"


def test_fast_resolves_offline_to_the_shipped_student_with_the_default_models_word_vectors(monkeypatch):
    from relsearch import RelationEncoder
    from relsearch.encoding.loading import resolve_spec

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert resolve_spec("fast") == (str(FAST_MODEL_DIR.resolve()), FAST_MODEL_DIR.resolve())
    fast = RelationEncoder("fast")
    assert fast.head is not None and fast.model.config.num_hidden_layers == 6
    assert fast.word_model == str(SHIPPED_MODEL_DIR.resolve())
    assert fast.dim == 1536 and fast.word_weight > 0
    assert fast.fingerprint != RelationEncoder().fingerprint


def test_fast_model_matches_its_model_card_on_u2(monkeypatch):
    from relsearch import RelationEncoder
    from relsearch.evaluation.analogy import evaluate_analogies, load_analogy_questions

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    recorded = {r["dataset"]: r for r in json.loads(EVAL_FILE.read_text())["results"]}["u2"]
    encoder = RelationEncoder("fast")
    questions = load_analogy_questions(DATA_DIR / "analogy" / "u2" / "test.jsonl")
    result = evaluate_analogies(questions, lambda pairs: encoder.encode(pairs, batch_size=64))
    assert result.n == recorded["n"] == 228
    assert abs(100 * result.accuracy - 100 * recorded["accuracy"]) <= 0.5
    assert f"{100 * recorded['accuracy']:.1f}" in (FAST_MODEL_DIR / "README.md").read_text()


def test_build_index_with_model_fast_then_query_and_info(tmp_path, monkeypatch):
    from relsearch.cli.app import app

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("barista\ncoffee\nbaker\nbread\nbrewer\nbeer\nwinemaker\nwine\nflorist\nflowers\n")
    out = tmp_path / "idx"
    runner = CliRunner()
    built = runner.invoke(app, ["build-index", str(vocab), "--out", str(out), "--model", "fast", "--k", "3"])
    assert built.exit_code == 0, built.output
    found = runner.invoke(app, ["query", "barista:coffee", "--index", str(out), "--json", "-k", "3"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert len(hits) == 3 and all(h["score"] > 0 for h in hits)
    info = runner.invoke(app, ["info", "--index", str(out)])
    text = " ".join(info.output.split())  # the table wraps long rows at the terminal width
    assert "model fast (" in text and "word vectors from the default model" in text
