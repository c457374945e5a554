"""`relsearch eval-lrc` end to end with a tiny transformer on a tiny dataset directory."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relsearch.cli.app import app

runner = CliRunner()
WORDS = [
    "king",
    "queen",
    "man",
    "woman",
    "paris",
    "france",
    "tokyo",
    "japan",
    "dog",
    "puppy",
    "cat",
    "kitten",
]


def _write_dataset(root: Path, with_val: bool = True) -> Path:
    rows = [(h, t, "rel" if i % 2 else "random") for i, (h, t) in enumerate(itertools.pairwise(WORDS))]
    rows += [(t, h, "back") for h, t, _ in rows[:6]]
    root.mkdir()
    (root / "train.tsv").write_text("".join(f"{h}\t{t}\t{r}\n" for h, t, r in rows * 2), encoding="utf-8")
    (root / "test.tsv").write_text("".join(f"{h}\t{t}\t{r}\n" for h, t, r in rows[:8]), encoding="utf-8")
    if with_val:
        (root / "val.tsv").write_text("".join(f"{h}\t{t}\t{r}\n" for h, t, r in rows[8:]), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def saved_model(tiny_encoder, tmp_path_factory) -> Path:
    """The tiny model as relsearch saves it (all weights on disk, so its fingerprint is stable)."""
    return tiny_encoder.save(tmp_path_factory.mktemp("saved") / "model")


def test_eval_lrc_json_and_cache_reuse(tmp_path, monkeypatch, saved_model):
    monkeypatch.setenv("RELSEARCH_CACHE", str(tmp_path / "cache"))
    data = _write_dataset(tmp_path / "mini")
    args = ["eval-lrc", str(data), "-m", str(saved_model), "--grid", "small", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload["dataset"] == "mini" and payload["model"] == str(saved_model)
    assert 0.0 <= payload["f1_micro"] <= 1.0 and 0.0 <= payload["f1_macro"] <= 1.0
    assert (payload["n_train"], payload["n_val"], payload["n_test"]) == (34, 9, 8)
    assert payload["train_subsampled"] is False and payload["max_train"] is None
    assert payload["validation"] == "val" and len(payload["search"]) == 2
    assert "encoding pairs" in first.stderr
    shards = list((tmp_path / "cache" / "vectors").rglob("*.npy"))
    assert shards and all(s.parent.name.endswith("-raw") for s in shards)

    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "encoding pairs" not in second.stderr  # everything came from the cache
    assert json.loads(second.stdout)["f1_micro"] == payload["f1_micro"]
    assert list((tmp_path / "cache" / "vectors").rglob("*.npy")) == shards


def test_eval_lrc_several_sets_subsample_and_holdout(tmp_path, monkeypatch, saved_model):
    monkeypatch.setenv("RELSEARCH_CACHE", str(tmp_path / "cache"))
    a = _write_dataset(tmp_path / "a")
    b = _write_dataset(tmp_path / "b", with_val=False)
    args = ["eval-lrc", str(a), str(b), "-m", str(saved_model), "--grid", "small", "--max-train", "20"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["max_train"] == 20 and payload["grid"] == "small"
    first, second = payload["results"]
    assert first["n_train"] == 20 and first["n_train_available"] == 34 and first["train_subsampled"]
    assert second["validation"].startswith("holdout") and second["n_val"] == 2

    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "20/34" in table.stdout and "held out" in table.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: (d / "train.tsv").write_text("a\tb\tx\nonly-two\tfields\n"), "train.tsv:2"),
        (lambda d: (d / "test.tsv").unlink(), "test.tsv' does not exist"),
        (lambda d: (d / "test.tsv").write_text("\n"), "holds no pairs"),
    ],
)
def test_bad_dataset_files_exit_1_with_one_line(tmp_path, setup, message):
    data = _write_dataset(tmp_path / "mini")
    setup(data)
    result = runner.invoke(app, ["eval-lrc", str(data), "-m", str(tmp_path / "no-model")])
    assert result.exit_code == 1 and message in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_unknown_dataset_and_missing_sklearn(tmp_path, monkeypatch):
    result = runner.invoke(app, ["eval-lrc", "WordNet"])
    assert result.exit_code == 1 and "valid: BLESS, CogALexV, EVALution, K&H+N, ROOT09" in result.stderr
    monkeypatch.setitem(sys.modules, "sklearn", None)
    result = runner.invoke(app, ["eval-lrc", "BLESS"])
    assert result.exit_code == 1 and "relsearch[eval]" in result.stderr
