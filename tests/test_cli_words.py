"""User words are printed verbatim, odd words are warned about, and misleading messages say what
happened (the CLI, with the tiny model and small real indexes)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from fake_encoder import FakeEncoder
from typer.testing import CliRunner

from index_builder.build import build_index
from relsearch.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.mark.parametrize("word", ["a[/b]", "[bold]baker", "y\\:smile\\:"])
def test_markup_and_emoji_codes_in_words_are_printed_verbatim(word, tiny_model_dir):
    result = runner.invoke(app, ["encode", f"{word}:bread", "tea:cup", "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    shown = word.replace("\\:", ":")
    assert shown in result.stdout and "😄" not in result.stdout


def test_verbose_traceback_keeps_emoji_codes(tmp_path):
    result = runner.invoke(app, ["-v", "query", "a:b:c", "-i", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "a:b:c" in result.stderr and "🅱" not in result.stderr


def test_word_of_unknown_tokens_only_is_warned_about(tmp_path, caplog):
    from tiny_models import build_tiny_model

    from relsearch import RelationEncoder
    from relsearch.templates import TEMPLATES

    config = {"aggregation_mode": "average_no_mask", "template": TEMPLATES["a"]}
    encoder = RelationEncoder(build_tiny_model(tmp_path / "bert", kind="bert", relbert_config=config))
    with caplog.at_level(logging.WARNING, logger="relsearch"):
        encoder.encode(["☕:cup", "☕:tea", "𓀀:cup", "coffee:cup"])
        encoder.encode(["☕:mug"])  # warned once per word
    records = caplog.records
    warned = [r.getMessage() for r in records if "unknown tokens" in r.getMessage()]
    assert warned == [
        "the word '☕' is only unknown tokens to this model's tokenizer: it gets the same vector as any "
        "other such word",
        "the word '𓀀' is only unknown tokens to this model's tokenizer: it gets the same vector as any "
        "other such word",
    ]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "idx"
    build_index(
        out, pairs=["barista:coffee", "baker:bread", "brewer:beer", "barista:milk"], encoder=FakeEncoder()
    )
    return out


def test_unknown_head_says_the_word_is_not_in_the_index(small_index):
    result = runner.invoke(app, ["query", "baker:bread", "-i", str(small_index), "--head", "plumber"])
    assert result.exit_code == 1
    assert "no pair in the index has the head 'plumber'" in result.stderr


def test_overlap_filtered_head_names_allow_overlap(small_index):
    result = runner.invoke(
        app, ["query", "barista:coffee", "-i", str(small_index), "--head", "barista", "-k", "2"]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.stderr.split())
    assert "every pair with the head 'barista' shares that word with the query" in text
    assert "--allow-overlap" in text


def test_default_k_on_a_tiny_index_is_clamped(small_index):
    result = runner.invoke(app, ["query", "baker:bread", "-i", str(small_index), "--json"])
    assert result.exit_code == 0, result.output
    assert "the index holds only 4 pair(s): showing at most 4" in result.stderr
    assert len(json.loads(result.stdout)) == 3  # the 4 pairs but the query itself


def test_results_to_a_full_disk_are_one_line(small_index):
    cmd = [sys.executable, "-m", "relsearch", "query", "baker:bread", "-i", str(small_index), "-k", "2"]
    with open("/dev/full", "w") as full:
        result = subprocess.run(cmd, cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    message = "error: cannot write the results: No space left on device (stdout); free some space or write"
    assert result.stderr.strip().splitlines() == [f"{message} elsewhere"]


def test_dry_run_refuses_what_the_build_would_refuse(tmp_path, small_index):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("baker\nbread\n")
    result = runner.invoke(app, ["build-index", str(vocab), "--out", str(small_index), "--dry-run"])
    assert result.exit_code == 1 and "already holds a complete relsearch index" in result.stderr


def test_pairs_file_whose_first_row_looks_like_a_header_is_warned_about(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("source\ttarget\nbaker\tbread\nbrewer\tbeer\n")
    result = runner.invoke(
        app, ["build-index", "--pairs", str(pairs), "--out", str(tmp_path / "x"), "--dry-run"]
    )
    text = " ".join(result.stderr.split())
    assert "looks like a header but names no 'head' and 'tail' columns" in text
