"""relsearch distill: the distillation set, a tiny teacher and student, the export, the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_training import VOCAB, data_dir  # noqa: F401  (the SemEval-like data folder fixture)
from tiny_models import build_tiny_model
from typer.testing import CliRunner

from relsearch import RelationEncoder
from relsearch.cli.app import app
from relsearch.distillation.pair_set import (
    assemble,
    benchmark_pairs,
    make_distillation_set,
    random_pairs,
    relational_training_pairs,
)
from relsearch.distillation.run import DistillConfig, distill
from relsearch.distillation.similarity_loss import similarity_kl
from relsearch.distillation.student import build_student, kept_layers
from relsearch.distillation.trainer import StudentRun, StudentTrainer
from relsearch.errors import RelsearchError
from relsearch.templates import TEMPLATES

TEACHER_CONFIG = {"aggregation_mode": "mask", "template": TEMPLATES["a"], "word_difference_weight": 0.5}


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    return build_tiny_model(
        tmp_path_factory.mktemp("teacher") / "m", relbert_config=TEACHER_CONFIG, hidden=32
    )


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    return build_tiny_model(
        tmp_path_factory.mktemp("student") / "m", kind="bert", hidden=16, layers=1, seed=1
    )


@pytest.fixture(scope="module")
def vocab_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return path


def test_shipped_benchmark_pairs_are_known_in_both_orders():
    pairs = benchmark_pairs()
    assert ("lie", "prevaricate") in pairs and ("prevaricate", "lie") in pairs  # U2 test stem
    assert len(pairs) > 50_000


def test_a_planted_benchmark_pair_is_dropped_and_counted():
    words = ["king", "queen", "man", "woman", "paris"]
    vectors = np.eye(5, dtype=np.float32) + 0.1
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    free = make_distillation_set(words, vectors, k=2, n_random=6, seed=0, semeval_dir=None, exclude=set())
    assert ("king", "queen") in free.pairs or ("queen", "king") in free.pairs
    planted = {("king", "queen"), ("queen", "king")}
    ds = make_distillation_set(words, vectors, k=2, n_random=6, seed=0, semeval_dir=None, exclude=planted)
    assert ("king", "queen") not in ds.pairs and ("queen", "king") not in ds.pairs
    assert ds.dropped_benchmark == sum(p in planted for p in [*free.pairs]) + free.duplicates - ds.duplicates
    assert ds.dropped_benchmark >= 1 and len(ds.pairs) < len(free.pairs)


def test_assemble_compares_case_insensitively_and_drops_duplicates():
    ds = assemble({"a": [("Paris", "France"), ("paris", "france"), ("dog", "dog")]}, {("tokyo", "japan")})
    assert ds.pairs == [("Paris", "France")] and ds.duplicates == 2
    ds = assemble({"a": [("Tokyo", "Japan"), ("x", "y")]}, {("tokyo", "japan")})
    assert ds.pairs == [("x", "y")] and ds.dropped_benchmark == 1 and ds.dropped_examples == ["Tokyo:Japan"]


def test_random_pairs_are_seeded_distinct_and_bounded():
    words = list("abcd")
    assert random_pairs(words, 5, 0) == random_pairs(words, 5, 0)
    assert len(set(random_pairs(words, 100, 1))) == 12  # every ordered pair of 4 words, no self pairs
    assert all(h != t for h, t in random_pairs(words, 100, 1))


def _relational_files(root):
    """Lexical relation and ConceptNet100k training files under ``root`` (a shared data folder)."""
    bless = root / "lexical_relation_classification" / "BLESS"
    bless.mkdir(parents=True, exist_ok=True)
    (bless / "train.tsv").write_text("pistol\tbullet\tmero\ndog\tanimal\thyper\n", encoding="utf-8")
    (bless / "test.tsv").write_text("cat\tanimal\thyper\n", encoding="utf-8")  # never read: not training data
    conceptnet = root / "conceptnet100k"
    conceptnet.mkdir(parents=True, exist_ok=True)
    (conceptnet / "train.txt").write_text(
        "AtLocation\tcarpet\thouse\n"
        "UsedFor\truler\tmeasure distance\n"
        "HasSubevent\tgo to the big city museum\tsee art\n",  # a 6-word phrase: skipped
        encoding="utf-8",
    )
    return root


def test_relational_training_pairs_read_train_splits_only_and_skip_long_phrases(tmp_path):
    root = _relational_files(tmp_path / "data")
    pairs = relational_training_pairs(root)
    assert pairs == [
        ("pistol", "bullet"),
        ("dog", "animal"),
        ("carpet", "house"),
        ("ruler", "measure distance"),
    ]
    words = ["king", "queen", "man"]
    vectors = np.eye(3, dtype=np.float32)
    planted = {("carpet", "house"), ("house", "carpet")}

    def with_relational(n):
        return make_distillation_set(
            words,
            vectors,
            k=1,
            n_random=0,
            seed=0,
            semeval_dir=None,
            exclude=planted,
            n_relational=n,
            relational_dir=root,
        )

    ds = with_relational(3)
    relational = ds.pairs[-ds.kept["relational"] :]
    assert ds.offered["relational"] == 3 and ("carpet", "house") not in ds.pairs
    assert set(relational) <= set(pairs) and ds.kept["relational"] + ds.dropped_benchmark == 3
    everything = with_relational(10)
    assert everything.kept["relational"] == 3 and everything.dropped_benchmark == 1
    again = with_relational(3)
    assert again.pairs == ds.pairs  # seeded
    with pytest.raises(ValueError, match="no relation training pairs"):
        relational_training_pairs(tmp_path / "empty")


def test_kept_layers_are_evenly_spaced_and_end_at_the_top():
    assert kept_layers(12, 6) == [1, 3, 5, 7, 9, 11]
    assert kept_layers(12, 12) == list(range(12))
    assert kept_layers(4, 1) == [3]


def test_student_learns_the_teacher_and_exports_a_hybrid_model(
    tmp_path,
    teacher_dir,
    student_dir,
    vocab_file,
    data_dir,  # noqa: F811
):
    out = tmp_path / "run"
    config = DistillConfig(
        out=out,
        vocab=vocab_file,
        student=str(student_dir),
        teacher=str(teacher_dir),
        k=4,
        random_pairs=150,
        data=data_dir,
        dtype="float32",
        train=StudentRun(epochs=3, lr=3e-3, batch_size=16, holdout=20, warmup_fraction=0.1),
    )
    summary = distill(config)
    history = summary["history"]
    assert history[-1]["holdout_cosine"] > history[0]["holdout_cosine"] + 0.05
    report = json.loads((out / "pairs.json").read_text())
    assert report["pairs"] == summary["distillation_set"]["pairs"] > 100
    assert report["kept"]["semeval"] > 0 and report["kept"]["random"] > 0
    fast = RelationEncoder(out / "best")
    teacher = RelationEncoder(teacher_dir)
    assert fast.head is not None and fast.prompt_dim == teacher.prompt_dim == 32
    assert fast.dim == teacher.dim == 64 and fast.word_weight == 0.5
    pairs = [("king", "queen"), ("dog", "puppy"), ("paris", "france")]
    a, b = fast.encode(pairs), teacher.encode(pairs)
    np.testing.assert_allclose(a[:, 32:], b[:, 32:], atol=1e-5)  # the teacher's word vectors
    assert fast.fingerprint != RelationEncoder(student_dir).fingerprint
    card = (out / "best" / "README.md").read_text()
    assert "Distillation set" in card and str(report["pairs"]) in card.replace(",", "")
    # a second call resumes: nothing is trained again and the same summary comes back
    again = distill(config)
    assert [r["epoch"] for r in again["history"]] == [r["epoch"] for r in history]
    # --select last on the finished run exports its last epoch (the checkpoint's weights)
    delta_before = (out / "best" / "delta.safetensors").read_bytes()
    last = distill(dataclasses.replace(config, select="last"))
    assert last["best_epoch"] == last["export"]["epoch"] == 3
    assert "| 3 (kept) |" in (out / "best" / "README.md").read_text()
    if summary["best_epoch"] != 3:
        assert (out / "best" / "delta.safetensors").read_bytes() != delta_before
    assert distill(dataclasses.replace(config, select="last"))["export"] == last["export"]  # kept
    # a distilled model as --student is a warm start: its trained head and weights are kept
    warm_config = dataclasses.replace(
        config,
        out=tmp_path / "warm",
        student=str(out / "best"),
        train=StudentRun(epochs=1, lr=1e-3, batch_size=16, holdout=20, warmup_fraction=0.1),
    )
    warm = distill(warm_config)
    assert warm["student"]["warm_start"] is True and warm["student"]["head"] == [16, 32]
    best_cosine = last["best"]["holdout_cosine"]  # best/ holds the last epoch since --select last
    assert warm["history"][0]["holdout_cosine"] == pytest.approx(best_cosine, abs=0.02)
    assert warm["history"][0]["holdout_cosine"] > history[0]["holdout_cosine"] + 0.05
    meta = json.loads((tmp_path / "warm" / "best" / "relsearch_delta.json").read_text())
    assert Path(meta["base"]) == student_dir.resolve()  # the delta is taken against the root base
    assert RelationEncoder(tmp_path / "warm" / "best").prompt_dim == 32


def short_prompt_teacher(tmp_path: Path, n_pairs: int) -> tuple[RelationEncoder, list, np.ndarray]:
    """A tiny teacher, ``n_pairs`` random pairs and its unit prompt vectors for them.

    Average pooling over a short prompt: a tiny random model's mask-position vectors are almost
    the same for every pair (no ranking to learn), and a long template dominates an average.
    """
    short = {"aggregation_mode": "average_no_mask", "template": "<subj> is the <mask> of <obj>"}
    config = {**TEACHER_CONFIG, **short}
    teacher_dir = build_tiny_model(tmp_path / "teacher", relbert_config=config, hidden=32)
    teacher = RelationEncoder(teacher_dir, dtype="float32", trace=False)
    pairs = random_pairs(VOCAB, n_pairs, seed=0)
    targets = teacher.encode(pairs)[:, : teacher.prompt_dim]
    return teacher, pairs, targets / np.linalg.norm(targets, axis=1, keepdims=True)


def assert_logged_terms(losses: dict, plain: dict, term: str, weight: float) -> None:
    """A run with an extra term logs it and the cosine loss, and their weighted sum is the total."""
    assert set(plain) == {"train_loss"}
    assert set(losses) == {"train_loss", "distill_loss", term}
    total = losses["distill_loss"] + weight * losses[term]
    assert losses["train_loss"] == pytest.approx(total, rel=1e-5)


def test_the_relbert_term_lowers_the_infonce_loss_of_the_semeval_relations(
    tmp_path,
    student_dir,
    data_dir,  # noqa: F811
):
    teacher, pairs, targets = short_prompt_teacher(tmp_path, 120)
    probe_run = StudentRun(holdout=20, relbert_weight=1.0, relbert_negatives=8)

    def infonce(student: RelationEncoder) -> float:
        """Mean InfoNCE over every training relation: eval mode, the same negatives each time."""
        probe = StudentTrainer(student, pairs, targets, probe_run, data_dir)
        assert len(probe.relations) == 6  # 4 subcategories and their 2 parents
        probe.modules.eval()
        rng = np.random.default_rng(0)
        with torch.no_grad():
            return float(np.mean([float(probe._relbert_loss(r, rng)) for r in range(6)]))

    def trained(weight: float) -> tuple[RelationEncoder, dict[str, float]]:
        student, _ = build_student(str(student_dir), teacher)
        run = dataclasses.replace(probe_run, epochs=10, lr=1e-2, batch_size=16, relbert_weight=5 * weight)
        trainer = StudentTrainer(student, pairs, targets, run, data_dir)
        step, losses = 0, {}
        for epoch in range(1, run.epochs + 1):
            losses, step = trainer.train_epoch(epoch, step)
        return student, losses

    untrained = infonce(build_student(str(student_dir), teacher)[0])
    with_term, losses = trained(1.0)
    without_term, plain = trained(0.0)
    assert_logged_terms(losses, plain, "relbert_loss", 5.0)
    # a tiny model's vectors stay close together, so the loss moves from about ln(9) (8 negatives)
    # by 0.005 to 0.8 depending on the random tokenizer and student, at weight 1 over 6 epochs
    # (seen in repeated runs); weight 5 over 10 epochs moves it further
    assert infonce(with_term) < untrained - 0.02
    assert infonce(with_term) < infonce(without_term) - 0.02
    assert "relbert_weight" not in StudentRun().identity()  # runs without the term keep their identity
    assert StudentRun(relbert_weight=0.5).identity()["relbert_negatives"] == 64


def test_the_similarity_term_brings_the_students_in_batch_ranking_closer_to_the_teachers(
    tmp_path,
    student_dir,
    data_dir,  # noqa: F811
):
    # even with the short prompt the teacher's in-batch cosines spread by only about 0.01, hence a
    # temperature of 0.005
    teacher, pairs, targets = short_prompt_teacher(tmp_path, 160)

    def trained(weight: float) -> tuple[StudentTrainer, dict[str, float]]:
        student, _ = build_student(str(student_dir), teacher)
        run = StudentRun(epochs=8, lr=1e-2, batch_size=16, holdout=40)
        run = dataclasses.replace(run, similarity_weight=weight, similarity_temperature=0.005)
        trainer = StudentTrainer(student, pairs, targets, run, data_dir)
        step, losses = 0, {}
        for epoch in range(1, run.epochs + 1):
            losses, step = trainer.train_epoch(epoch, step)
        return trainer, losses

    def batch_kl(trainer: StudentTrainer) -> float:
        """The term on 40 training pairs as one batch, at the runs' temperature, in eval mode."""
        trainer.modules.eval()
        rows = np.sort(trainer.train_idx[:40])
        with torch.no_grad():
            vectors = trainer._vectors(rows)
        return float(similarity_kl(vectors, torch.from_numpy(targets[rows]), 0.005))

    with_term, losses = trained(5.0)
    without_term, plain = trained(0.0)
    assert_logged_terms(losses, plain, "similarity_loss", 5.0)
    # seen: 0.57 to 0.66 of the cosine-only run over three fresh builds of the tiny models
    assert batch_kl(with_term) < 0.8 * batch_kl(without_term)
    assert "similarity_weight" not in StudentRun().identity()  # runs without the term keep their identity
    assert StudentRun(similarity_weight=1.0).identity()["similarity_temperature"] == 0.05
    with pytest.raises(RelsearchError, match="--similarity-temperature"):
        StudentRun(similarity_weight=1.0, similarity_temperature=0).check()
    with pytest.raises(RelsearchError, match="finite"):
        StudentRun(similarity_weight=float("nan")).check()
    with pytest.raises(RelsearchError, match="--batch-size 3"):
        StudentRun(similarity_weight=1.0, batch_size=2).check()
    StudentRun(batch_size=2).check()  # small batches are fine without the term


def test_cli_distill_teacher_layers_and_errors(tmp_path, teacher_dir, vocab_file, data_dir):  # noqa: F811
    runner = CliRunner()
    args = [
        "distill",
        "--out",
        str(tmp_path / "run"),
        "--vocab",
        str(vocab_file),
        "--teacher",
        str(teacher_dir),
    ]
    args += [
        "--data",
        str(data_dir),
        "--k",
        "3",
        "--random-pairs",
        "40",
        "--epochs",
        "1",
        "--dtype",
        "float32",
    ]
    result = runner.invoke(app, [*args, "--student", "teacher:1", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["student"]["layers"] == [2] and summary["student"]["head"] is None
    model = RelationEncoder(summary["model"])
    assert model.model.config.num_hidden_layers == 1 and model.dim == 64
    keep = tmp_path / "run" / "notes.txt"  # --overwrite removes the run's own files only
    keep.write_text("mine")
    again = runner.invoke(app, [*args, "--student", "teacher:1", "--overwrite", "--epochs", "1"])
    assert again.exit_code == 0, again.output
    assert keep.read_text() == "mine" and "resuming" not in again.output
    other = runner.invoke(app, [*args, "--student", "teacher:1", "--lr", "0.123"])  # same --out
    assert other.exit_code == 1 and "train.lr:" in other.output and "0.123" in other.output
    bad = runner.invoke(app, [*args[:2], str(tmp_path / "r2"), *args[3:], "--student", "teacher:9"])
    assert bad.exit_code == 1 and "teacher:N" in bad.output
    bad = runner.invoke(app, [*args[:2], str(tmp_path / "r3"), *args[3:], "--dtype", "int4"])
    assert bad.exit_code == 1 and "--dtype" in bad.output
    bad = runner.invoke(app, [*args[:2], str(tmp_path / "r4"), *args[3:], "--relbert-weight", "-1"])
    assert bad.exit_code == 1 and "--relbert-weight" in bad.output
    bad = runner.invoke(app, [*args[:2], str(tmp_path / "r5"), *args[3:], "--similarity-weight", "-1"])
    assert bad.exit_code == 1 and "--similarity-weight" in bad.output
    bad = runner.invoke(app, [*args[:2], str(tmp_path / "r6"), *args[3:], "--select", "first"])
    assert bad.exit_code == 1 and "--select" in bad.output and not (tmp_path / "r6").exists()
