"""``distill``: distillation set -> teacher index -> student training -> exported fast model.

Every stage is resumable. ``OUT/pairs.tsv`` and ``OUT/pairs.json`` (the set and its counts)
are kept when the settings that made them are unchanged; ``OUT/teacher/`` is an ordinary
``build-index`` output (an interrupted build resumes); the student writes a checkpoint after
every epoch under ``OUT/checkpoints/`` and exports its best epoch (by validation analogy
accuracy) to ``OUT/best/``, a model directory every relsearch command takes as ``--model``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from relsearch import __version__
from relsearch.errors import RelsearchError

PAIRS_TSV, PAIRS_JSON, TEACHER_DIR, BEST_DIR, SUMMARY = (
    "pairs.tsv",
    "pairs.json",
    "teacher",
    "best",
    "summary.json",
)


@dataclass
class DistillConfig:
    """What defines a distillation run (see ``relsearch distill --help``)."""

    out: Path
    vocab: Path
    student: str = "pypi:all-MiniLM-L6-v2"
    teacher: str | None = None
    k: int = 10
    random_pairs: int = 30_000
    relational_pairs: int = 0
    max_pairs: int | None = None
    data: Path | None = None
    teacher_dtype: str = "auto"
    dtype: str = "auto"
    train: Any = None  # StudentRun
    word_model: str | None = None  # hybrid word vectors of the student; default: the teacher
    select: str = "best"  # the epoch exported to best/: best validation mean, or the last one

    def check(self) -> None:
        """Reject impossible training and selection values with a message naming the options."""
        from relsearch.training.loop import SELECTIONS

        self.train.check()
        if self.select not in SELECTIONS:
            raise RelsearchError(f"unknown --select {self.select!r}; valid: {', '.join(SELECTIONS)}")

    def pair_settings(self, teacher_source: str) -> dict[str, Any]:
        return {
            "vocab": str(Path(self.vocab).resolve()),
            "teacher": teacher_source,
            "k": self.k,
            "random_pairs": self.random_pairs,
            **({"relational_pairs": self.relational_pairs} if self.relational_pairs else {}),
            "seed": self.train.seed,
            "max_pairs": self.max_pairs,
        }


def clear_outputs(out: Path) -> None:
    """Remove what a distillation run wrote in ``out`` (only its own names; the folder stays)."""
    import shutil

    from relsearch.training.checkpoint import CHECKPOINTS

    for name in (TEACHER_DIR, BEST_DIR, CHECKPOINTS):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in (PAIRS_TSV, PAIRS_JSON, SUMMARY):
        (out / name).unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def make_pairs(config: DistillConfig, teacher_source: str, say: Callable[[str], None]) -> dict[str, Any]:
    """Stage 1: write ``OUT/pairs.tsv`` unless an identical set is there; return its report."""
    from index_builder.vocab import read_vocab
    from index_builder.word_model import RELATION_MODEL, resolve_word_model, word_vectors
    from relsearch.distillation.pair_set import (
        make_distillation_set,
        sample_pairs,
        write_pairs,
        write_report,
    )
    from relsearch.training.semeval import default_data_dir

    out = Path(config.out)
    settings = config.pair_settings(teacher_source)
    old = _read_json(out / PAIRS_JSON)
    if old is not None and old.get("settings") == settings and (out / PAIRS_TSV).is_file():
        say(f"distillation set: {old['pairs']:,} pairs (kept from {out / PAIRS_TSV})")
        return old
    words = read_vocab(config.vocab).words
    word_model = resolve_word_model(None, teacher_source)
    word_model = teacher_source if word_model == RELATION_MODEL else word_model
    say(f"distillation set: word vectors of {len(words):,} words from {word_model}")
    vectors = word_vectors(words, word_model, None, batch_size=256)
    data_dir = Path(config.data) if config.data else default_data_dir()
    ds = make_distillation_set(
        words,
        vectors,
        k=config.k,
        n_random=config.random_pairs,
        seed=config.train.seed,
        semeval_dir=data_dir,
        n_relational=config.relational_pairs,
    )
    if config.max_pairs is not None:
        ds.pairs = sample_pairs(ds.pairs, config.max_pairs, config.train.seed)
    out.mkdir(parents=True, exist_ok=True)
    write_pairs(out / PAIRS_TSV, ds.pairs)
    report = {**ds.report(), "settings": settings}
    write_report(out / PAIRS_JSON, report)
    say(
        f"distillation set: {len(ds.pairs):,} pairs ({report['kept']}); "
        f"{ds.dropped_benchmark:,} benchmark pairs dropped"
    )
    return report


def teacher_index(config: DistillConfig, say: Callable[[str], None], progress: bool) -> dict[str, Any]:
    """Stage 2: the teacher's index of ``pairs.tsv`` (built, resumed, or kept if complete)."""
    from index_builder.build import build_index
    from relsearch.index.format import MANIFEST_FILE, read_manifest

    target = Path(config.out) / TEACHER_DIR
    if (target / MANIFEST_FILE).is_file():
        manifest = read_manifest(target)
        say(f"teacher index: {manifest['counts']['pairs']:,} pairs (kept from {target})")
        return {"path": str(target), "kept": True}
    report = build_index(
        out_dir=target,
        pairs=Path(config.out) / PAIRS_TSV,
        model=config.teacher,
        dtype=config.teacher_dtype,
        progress=progress,
    )
    say(f"teacher index: {report.pairs:,} pairs in {report.durations['total']:.0f} s")
    return {"path": str(target), "kept": False, "seconds": report.durations["total"]}


def distill(
    config: DistillConfig,
    *,
    progress: bool = False,
    say: Callable[[str], None] = lambda m: None,
    on_epoch: Callable[[dict[str, Any]], None] = lambda r: None,
) -> dict[str, Any]:
    """Run (or resume) every stage; return the summary also written to ``OUT/summary.json``."""
    from relsearch.distillation.export import export_student
    from relsearch.distillation.student import build_student
    from relsearch.distillation.teacher_targets import read_teacher_targets
    from relsearch.distillation.trainer import StudentRun, StudentTrainer
    from relsearch.encoding import RelationEncoder
    from relsearch.encoding.loading import resolve_spec
    from relsearch.storage.atomic import write_json_atomic
    from relsearch.training.checkpoint import (
        identity_changes,
        latest_checkpoint,
        restore_checkpoint,
        save_checkpoint,
    )
    from relsearch.training.loop import selected_epoch, training_dtype
    from relsearch.training.semeval import default_data_dir

    config.train = config.train or StudentRun()
    config.check()
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise RelsearchError(f"--out {str(out)!r} exists and is not a directory")
    teacher_source = resolve_spec(config.teacher)[0]
    t0 = time.perf_counter()
    pair_report = make_pairs(config, teacher_source, say)
    teacher_info = teacher_index(config, say, progress)
    targets = read_teacher_targets(out / TEACHER_DIR)
    teacher = RelationEncoder(config.teacher, dtype="float32", trace=False)
    if targets.vectors.shape[1] != teacher.prompt_dim:
        raise RelsearchError(
            f"the teacher index holds {targets.vectors.shape[1]}-dim prompt vectors, the teacher makes "
            f"{teacher.prompt_dim}; remove {out / TEACHER_DIR} and run again"
        )
    student, about = build_student(config.student, teacher)
    run = dataclasses.replace(config.train, bf16=training_dtype(config.dtype) == "bfloat16")
    data_dir = Path(config.data) if config.data else default_data_dir()
    trainer = StudentTrainer(student, targets.pairs, targets.vectors, run, data_dir, progress=progress)
    identity = {
        "student": about["student"],
        "teacher": teacher_source,
        "pairs": pair_report.get("settings"),
        "train": run.identity(),
    }
    history: list[dict[str, Any]] = []
    step = 0
    ckpt = latest_checkpoint(out)
    if ckpt is not None:
        changes = identity_changes(ckpt.state.get("identity") or {}, identity)
        if changes:
            raise RelsearchError(
                f"{out} holds a checkpoint of a different distillation run ({', '.join(changes)}); "
                "use --overwrite to start again or choose another --out"
            )
        restore_checkpoint(ckpt, trainer.params, trainer.optimizer)
        history, step = ckpt.state["history"], int(ckpt.state["step"])
        say(f"resuming after epoch {ckpt.epoch}")
    else:
        record = {"epoch": 0, "train_loss": None, **trainer.validate()}
        history.append(record)
        on_epoch(record)
    export_info = ckpt.state.get("export") if ckpt else None

    def export(upto: list[dict[str, Any]]) -> dict[str, Any]:
        return export_student(
            trainer,
            teacher,
            out / BEST_DIR,
            about=about,
            history=upto,
            pair_report=pair_report,
            word_model=config.word_model,
        )

    first = (ckpt.epoch if ckpt else 0) + 1
    for epoch in range(first, run.epochs + 1):
        start = time.perf_counter()
        losses, step = trainer.train_epoch(epoch, step)
        train_seconds = time.perf_counter() - start
        record = {"epoch": epoch, **losses, **trainer.validate()}
        record.update(seconds=time.perf_counter() - start, train_seconds=train_seconds, steps=step)
        history.append(record)
        best = selected_epoch(history, config.select)
        if best is not None and best["epoch"] == epoch:
            record["best"] = True
            export_info = {**export(history), "epoch": epoch}
        state = {"identity": identity, "step": step, "history": history, "export": export_info}
        save_checkpoint(out, epoch, trainer.params, trainer.optimizer, state)
        on_epoch(record)
    best = selected_epoch(history, config.select)
    if config.select == "last" and best is not None and (export_info or {}).get("epoch") != best["epoch"]:
        # a finished run re-selected with --select last: the checkpoint holds the last epoch
        export_info = {**export(history), "epoch": best["epoch"]}
        state = {"identity": identity, "step": step, "history": history, "export": export_info}
        save_checkpoint(out, best["epoch"], trainer.params, trainer.optimizer, state)
    summary = {
        "out": str(out),
        "model": str(out / BEST_DIR) if best else None,
        "best_epoch": best["epoch"] if best else None,
        "best": best,
        "student": about,
        "teacher": {"model": teacher_source, "index": teacher_info, **targets.encoder},
        "distillation_set": {k: v for k, v in pair_report.items() if k != "settings"},
        "train": run.to_dict(),
        "history": history,
        "export": export_info,
        "elapsed_seconds": time.perf_counter() - t0,
        "hardware": f"torch {torch.__version__}",
        "relsearch_version": __version__,
    }
    write_json_atomic(out / SUMMARY, summary)
    return summary
