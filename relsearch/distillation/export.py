"""Exporting a student: its weights (delta or full directory), its head, its hybrid settings, a card.

The export is checked like a trained model's (the reloaded prompt vectors must be within
cosine 0.999 of the in-training ones); then ``relbert_config`` gets the teacher's
``word_difference_weight`` and a ``word_model`` (the teacher unless told otherwise), so the
student's vectors are hybrid like the teacher's, with the teacher's word vectors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from relsearch.encoding import RelationEncoder
from relsearch.encoding.encoder import write_relbert_config
from relsearch.encoding.residual_delta import ENCODING as RESIDUAL_INT8
from relsearch.training.export import export_model, update_card
from relsearch.training.model_card import SET_LABELS

CHECK_PAIRS = 32


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def render_distill_card(summary: dict[str, Any]) -> str:
    """The model card of a distilled model."""
    about, pairs, run = summary["student"], summary["pairs"], summary["train"]
    history = summary["history"]
    names = list(history[0]["analogy"]) if history else []
    head = about.get("head")
    lines = [
        "# relsearch distilled relation model",
        "",
        f"A student trained by `relsearch distill` to reproduce the prompt vectors of the teacher "
        f"`{summary['teacher']}` (cosine loss), so that it encodes pairs faster.",
        "",
        "## Recipe",
        "",
        f"- Student: `{about['student']}` ({about['kind']}; {about['layers_total']} layers, hidden size "
        f"{about['hidden']}, {about['parameters'] / 1e6:.1f}M parameters"
        + (f"; layers {about['layers']} of the teacher" if about.get("layers") else "")
        + ")"
        + (f", then a linear head {head[0]} → {head[1]}" if head else "")
        + ".",
        f"- Prompt: the teacher's template `{summary['template']}` and `{summary['aggregation']}` pooling.",
        f"- Distillation set: {pairs['pairs']:,} pairs ("
        + ", ".join(f"{n:,} {source}" for source, n in pairs["kept"].items())
        + f"); "
        f"{pairs['dropped_benchmark']:,} pairs of benchmark validation/test splits were dropped "
        "(both orders, case-insensitive).",
        f"- Training: {run['epochs']} epochs, AdamW lr {run['lr']:g} (linear warm-up over "
        f"{100 * run['warmup_fraction']:.0f}% of the steps, then linear decay), batch {run['batch_size']}, "
        f"weight decay {run['weight_decay']:g}, {'bfloat16 autocast' if run['bf16'] else 'float32'}, "
        f"seed {run['seed']}; {run['holdout']:,} pairs held out for the cosine check.",
        *(
            [
                f"- Loss: the cosine loss plus {run['relbert_weight']:g} × the RelBERT InfoNCE loss "
                f"(temperature {run['temperature']:g}) of one SemEval-2012 training relation per step, "
                f"its training positives against {run['relbert_negatives']} sampled negatives."
            ]
            if run.get("relbert_weight")
            else []
        ),
        *(
            [
                f"- Relational term: plus {run['similarity_weight']:g} × KL(teacher ‖ student) of each "
                "pair's softmax over its cosines to the other pairs of the batch (temperature "
                f"{run['similarity_temperature']:g})."
            ]
            if run.get("similarity_weight")
            else []
        ),
        f"- Hybrid vectors: word-difference weight {summary['word_weight']:g} with the word vectors of "
        f"`{summary['word_model']}`.",
        "",
        "## Validation (prompt vectors only)",
        "",
        "| epoch | train loss | held-out cosine | "
        + " | ".join(SET_LABELS.get(n, n) for n in names)
        + " | mean |",
        "|" + "---|" * (len(names) + 4),
    ]
    for r in history:
        loss = "–" if r["train_loss"] is None else f"{r['train_loss']:.4f}"
        mark = " (kept)" if r["epoch"] == summary.get("best_epoch") else ""
        lines.append(
            f"| {r['epoch']}{mark} | {loss} | {r['holdout_cosine']:.4f} | "
            + " | ".join(_pct(r["analogy"][n]) for n in names)
            + f" | {_pct(r['mean_analogy'])} |"
        )
    lines += ["", f"relsearch {summary['relsearch_version']}.", ""]
    return "\n".join(lines)


def export_student(
    trainer: Any,
    teacher: RelationEncoder,
    target: Path,
    *,
    about: dict[str, Any],
    history: list[dict[str, Any]],
    pair_report: dict[str, Any],
    word_model: str | None = None,
) -> dict[str, Any]:
    """Write the student's current weights to ``target``; return the export info."""
    from relsearch import __version__

    student = trainer.student
    check_pairs = [trainer.pairs[i] for i in trainer.hold_idx[:CHECK_PAIRS].tolist()]
    check = trainer.check_vectors(check_pairs)
    word_source = word_model or teacher.source
    summary = {
        "student": about,
        "teacher": teacher.source,
        "template": teacher.template,
        "aggregation": teacher.aggregation,
        "pairs": {k: v for k, v in pair_report.items() if k != "settings"},
        "train": trainer.run.to_dict(),
        "history": history,
        "best_epoch": history[-1]["epoch"],
        "word_weight": teacher.word_weight,
        "word_model": word_source,
        "relsearch_version": __version__,
    }
    card = render_distill_card(summary)
    info = export_model(
        student,
        [n for n, _ in student.model.named_parameters()],
        target,
        metadata={"distillation": {k: summary[k] for k in ("student", "teacher", "pairs", "train")}},
        card=card,
        full=about["kind"] == "teacher layers",
        check_pairs=check_pairs,
        check_vectors=check,
        delta_encoding=RESIDUAL_INT8,
    )
    settings = dataclasses.replace(
        student.settings,
        word_weight=teacher.word_weight,
        word_model=word_source if teacher.word_weight else None,
    )
    write_relbert_config(target, settings)
    update_card(target, card)
    return info
