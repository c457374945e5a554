"""Analogy scoring (library, controlled vectors) and the `relsearch eval` command (tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from relsearch.cli.app import app
from relsearch.evaluation.analogy import (
    AnalogyQuestion,
    evaluate_analogies,
    evaluate_analogy_sets,
    load_analogy_questions,
)

runner = CliRunner()


class FakeEncoder:
    """Each word pair gets a fixed vector; counts calls to check batching across sets."""

    def __init__(self, vectors: dict[tuple[str, str], list[float]]) -> None:
        self.vectors = vectors
        self.calls: list[list[tuple[str, str]]] = []

    def __call__(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        self.calls.append(list(pairs))
        return np.array([self.vectors[p] for p in pairs], dtype=np.float32)


def _controlled() -> tuple[FakeEncoder, list[AnalogyQuestion]]:
    # Stem s: near (10, 1) ~ direction of x; choices c1 = x-ish, c2 = y, c3 = -x.
    vectors = {
        ("s", "1"): [1.0, 0.1, 0.0],
        ("a", "1"): [5.0, 0.0, 0.0],  # cosine ~0.995 with the stem, despite a different norm
        ("b", "1"): [0.0, 1.0, 0.0],
        ("c", "1"): [-1.0, 0.0, 0.0],
        ("s", "2"): [0.0, 0.0, 1.0],
        ("a", "2"): [0.0, 0.2, 1.0],  # the closest to stem 2
        ("b", "2"): [1.0, 1.0, 0.1],
    }
    q = [
        AnalogyQuestion(("s", "1"), (("b", "1"), ("a", "1"), ("c", "1")), answer=1, prefix="x"),  # right
        AnalogyQuestion(("s", "1"), (("a", "1"), ("c", "1")), answer=1, prefix="x"),  # wrong (0 wins)
        AnalogyQuestion(("s", "2"), (("b", "2"), ("a", "2")), answer=1, prefix="z"),  # right
        AnalogyQuestion(("s", "2"), (("a", "2"), ("b", "2"), ("b", "1")), answer=0, prefix="z"),  # right
    ]
    return FakeEncoder(vectors), q


def test_accuracy_and_prefixes_with_controlled_vectors():
    encode, questions = _controlled()
    result = evaluate_analogies(questions, encode)
    assert result.predictions == [1, 0, 1, 0]
    assert (result.correct, result.n) == (3, 4) and result.accuracy == 0.75
    assert result.by_prefix == {"x": (1, 2), "z": (2, 2)}
    d = result.to_dict()
    assert d["by_prefix"]["x"] == {"accuracy": 0.5, "n": 2, "correct": 1}
    assert len(encode.calls) == 1 and len(encode.calls[0]) == len(set(encode.calls[0])) == 7


def test_several_sets_share_one_encode_call():
    encode, questions = _controlled()
    results = evaluate_analogy_sets({"first": questions[:2], "second": questions[2:]}, encode)
    assert len(encode.calls) == 1 and len(encode.calls[0]) == 7
    assert results["first"].accuracy == 0.5 and results["second"].accuracy == 1.0


def test_wrong_vector_count_is_caught():
    _, questions = _controlled()
    with pytest.raises(ValueError, match="shape"):
        evaluate_analogies(questions, lambda pairs: np.zeros((1, 3), dtype=np.float32))


# -- the CLI with a real tiny transformer ------------------------------------------------------
WORDS = ["king", "queen", "man", "woman", "paris", "france", "tokyo", "japan", "dog", "puppy", "cat"]


def _known_file(tmp_path: Path, encoder, n_right: int, n_wrong: int) -> Path:
    """Questions whose answer is (or, for the last ``n_wrong``, is not) the tiny model's choice."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n_right + n_wrong):
        words = rng.choice(WORDS, size=8, replace=False)
        stem, choices = (words[0], words[1]), [(words[j], words[j + 1]) for j in (2, 4, 6)]
        vec = encoder.encode([stem, *choices])
        best = int(np.argmax(vec[1:] @ vec[0]))
        answer = best if i < n_right else (best + 1) % 3
        prefix = "right" if i < n_right else "wrong"
        lines.append(json.dumps({"stem": stem, "choice": choices, "answer": answer, "prefix": prefix}))
    path = tmp_path / "known.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_reports_the_exact_known_accuracy(tmp_path, tiny_model_dir, tiny_encoder):
    path = _known_file(tmp_path, tiny_encoder, n_right=5, n_wrong=3)
    result = runner.invoke(app, ["eval", str(path), "-m", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["accuracy"] == 5 / 8 and payload["n"] == 8 and payload["correct"] == 5
    assert payload["by_prefix"]["right"] == {"accuracy": 1.0, "n": 5, "correct": 5}
    assert payload["by_prefix"]["wrong"] == {"accuracy": 0.0, "n": 3, "correct": 0}
    assert payload["dataset"] == str(path) and payload["split"] is None
    assert payload["model"] == str(tiny_model_dir) and payload["encoder"]["dim"] == 32

    table = runner.invoke(app, ["eval", str(path), "-m", str(tiny_model_dir), "--by-prefix"])
    assert table.exit_code == 0 and "62.5" in table.stdout and "encoding pairs" in table.stderr
    rows = [line.split("│")[1:4] for line in table.stdout.splitlines() if line.startswith("│ right")]
    rows += [line.split("│")[1:4] for line in table.stdout.splitlines() if line.startswith("│ wrong")]
    assert [[c.strip() for c in r] for r in rows] == [["right", "5", "100.0"], ["wrong", "3", "0.0"]]


def test_cli_several_targets_json_schema(tiny_model_dir):
    result = runner.invoke(
        app, ["eval", "u2", "google", "--split", "valid", "-m", str(tiny_model_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"results", "model", "encoder", "skipped"}
    rows = payload["results"]
    assert [(r["dataset"], r["split"], r["n"]) for r in rows] == [
        ("u2", "valid", 24),
        ("google", "valid", 50),
    ]
    for r in rows:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["model"] == str(tiny_model_dir) and "by_prefix" in r
        assert sum(p["n"] for p in r["by_prefix"].values()) == r["n"]


def test_all_with_valid_skips_sets_without_that_split():
    from relsearch.evaluation.shipped import resolve_analogy_targets

    targets, skipped = resolve_analogy_targets(["all"], "valid")
    assert [t.name for t in targets] == ["u2", "u4", "google", "bats", "t_rex", "conceptnet"]
    assert skipped == ["scan", "nell"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no questions"),
        ('{"stem": ["a", "b"], "choice": [["c", "d"]], "answer": 0}\n{"stem": ["a"', "bad.jsonl:2"),
        ('{"stem": ["a", "b"], "choice": [["c", "d"]], "answer": 3}', "out of range"),
        ('{"stem": ["a", "b"], "answer": 0}', "bad.jsonl:1"),
    ],
)
def test_bad_files_exit_1_with_one_line(tmp_path, tiny_model_dir, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["eval", str(path), "-m", str(tiny_model_dir)])
    assert result.exit_code == 1 and message in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown dataset 'nope'; valid: u2, u4, google, bats, scan, nell, t_rex, conceptnet, all"),
        (["missing/file.jsonl"], "does not exist"),
        (["scan", "--split", "valid"], "has no 'valid' split"),
    ],
)
def test_bad_targets_exit_1_before_loading_a_model(tmp_path, args, message):
    # A model that does not exist proves the target is checked first.
    result = runner.invoke(app, ["eval", *args, "-m", str(tmp_path / "no-model")])
    assert result.exit_code == 1 and message in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_bad_split_is_a_usage_error():
    assert runner.invoke(app, ["eval", "u2", "--split", "train"]).exit_code == 2


def test_shipped_files_load_with_the_published_counts():
    from relsearch.evaluation.shipped import analogy_path

    expected = {
        ("u2", "test"): 228, ("u2", "valid"): 24, ("u4", "test"): 432, ("u4", "valid"): 48,
        ("google", "test"): 500, ("google", "valid"): 50, ("bats", "test"): 1799, ("bats", "valid"): 199,
        ("scan", "test"): 1616, ("nell", "test"): 600, ("t_rex", "test"): 183, ("t_rex", "valid"): 496,
        ("conceptnet", "test"): 1192, ("conceptnet", "valid"): 1112,
    }  # fmt: skip
    for (name, split), n in expected.items():
        questions = load_analogy_questions(analogy_path(name, split))
        assert len(questions) == n, (name, split)
        assert all(q.prefix for q in questions)


def test_shipped_names_are_case_insensitive_and_files_win_only_with_a_path(tmp_path, monkeypatch):
    from relsearch.evaluation.shipped import resolve_analogy_targets

    (tmp_path / "u2").write_text("not json", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    targets, _ = resolve_analogy_targets(["U2", "./u2"], "test")
    assert [(t.name, t.split) for t in targets] == [("u2", "test"), ("./u2", None)]


def test_cli_import_stays_light():
    import subprocess
    import sys

    code = "import sys, relsearch.cli.app; print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- bidirectional scoring ---------------------------------------------------------------------------
def test_bidirectional_scoring_multiplies_both_directions():
    # Forward, choice c:d is closer to the stem; reversed, it points the other way, so
    # bidirectional scoring (forward cosine x reverse cosine) picks e:f instead.
    vectors = {
        ("a", "b"): [1.0, 0.0, 0.0],
        ("b", "a"): [0.0, 1.0, 0.0],
        ("c", "d"): [0.95, 0.31, 0.0],
        ("d", "c"): [0.0, -1.0, 0.0],
        ("e", "f"): [0.8, 0.6, 0.0],
        ("f", "e"): [0.0, 1.0, 0.0],
    }
    encode = FakeEncoder(vectors)
    q = [AnalogyQuestion(("a", "b"), (("c", "d"), ("e", "f")), answer=1)]
    assert evaluate_analogies(q, encode).predictions == [0]
    result = evaluate_analogies(q, encode, bidirectional=True)
    assert result.predictions == [1] and result.accuracy == 1.0
    assert set(encode.calls[-1]) == set(vectors)  # reversed pairs encoded too, each once


def test_cli_bidirectional_column(tmp_path, tiny_model_dir, tiny_encoder):
    """A file whose answers are the bidirectional choices and differ from the forward ones."""
    rng = np.random.default_rng(1)
    lines, forward_right = [], 0
    while len(lines) < 4:
        words = rng.choice(WORDS, size=8, replace=False)
        stem, choices = (words[0], words[1]), [(words[j], words[j + 1]) for j in (2, 4, 6)]
        vec = tiny_encoder.encode([stem, *choices])
        back = tiny_encoder.encode([(b, a) for a, b in (stem, *choices)])
        fwd = vec[1:] @ vec[0]
        both = fwd * (back[1:] @ back[0])
        if int(np.argmax(both)) == int(np.argmax(fwd)):
            continue
        lines.append(json.dumps({"stem": stem, "choice": choices, "answer": int(np.argmax(both))}))
    path = tmp_path / "bidir.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(path), "-m", str(tiny_model_dir), "--json", "--bidirectional"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["accuracy"] == forward_right / 4 == 0.0
    assert payload["bidirectional"]["accuracy"] == 1.0 and payload["bidirectional"]["n"] == 4
    plain = json.loads(runner.invoke(app, ["eval", str(path), "-m", str(tiny_model_dir), "--json"]).stdout)
    assert "bidirectional" not in plain and plain["accuracy"] == 0.0
    table = runner.invoke(app, ["eval", str(path), "-m", str(tiny_model_dir), "--bidirectional"])
    assert table.exit_code == 0 and "bidirectional %" in table.stdout and "100.0" in table.stdout
