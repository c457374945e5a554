"""``relsearch eval``: accuracy on multiple-choice analogy questions (shipped sets or JSONL files)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from relsearch.cli.options import DtypeOpt, ModelOpt, WordWeightOpt
from relsearch.cli.output import err, handle_errors, out, print_json
from relsearch.evaluation.analogy import (
    AnalogyResult,
    distinct_pairs,
    evaluate_analogy_sets,
    load_analogy_questions,
)
from relsearch.evaluation.shipped import ANALOGY_DATASETS, AnalogyTarget, resolve_analogy_targets
from relsearch.pairs import Pair

TARGETS_HELP = (
    f"Shipped set ({', '.join(ANALOGY_DATASETS)}), 'all', or a JSONL file "
    '({"stem": [a, b], "choice": [[c, d], ...], "answer": i, "prefix"?: s} per line).'
)


class Split(str, Enum):
    test = "test"
    valid = "valid"


def _row(target: AnalogyTarget, result: AnalogyResult, model: str) -> dict[str, Any]:
    return {
        "dataset": target.name,
        "split": target.split,
        "path": str(target.path),
        "model": model,
        **result.to_dict(),
    }


@handle_errors
def eval_analogies(
    targets: Annotated[
        list[str],
        typer.Argument(
            help=TARGETS_HELP,
            show_default=False,
        ),
    ],
    model: ModelOpt = None,
    split: Annotated[Split, typer.Option(help="Split of the shipped sets (files are used as they are).")] = (
        Split.test
    ),
    batch_size: Annotated[int, typer.Option(min=1, help="Pairs per forward pass.")] = 64,
    dtype: DtypeOpt = "float32",
    word_weight: WordWeightOpt = None,
    by_prefix: Annotated[bool, typer.Option("--by-prefix", help="Also print accuracy per prefix.")] = False,
    bidirectional: Annotated[
        bool,
        typer.Option(
            "--bidirectional",
            help="Also score each choice C:D by cos(v(A,B), v(C,D)) * cos(v(B,A), v(D,C)) (RelBERT's "
            "bidirectional scoring; encodes every pair reversed too), reported in its own column.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object for one target, {'results': [...]} for several.")
    ] = False,
) -> None:
    """Score analogy questions: the answer is the choice whose relation vector is closest to the stem's."""
    resolved, skipped = resolve_analogy_targets(targets, split.value)
    question_sets = {t: load_analogy_questions(t.path) for t in resolved}
    for name in skipped:
        err.print(f"note: {name} has no {split.value!r} split; skipped", markup=False)

    from relsearch.encoding import RelationEncoder

    encoder = RelationEncoder(model, dtype=dtype, batch_size=batch_size, word_weight=word_weight)
    described = encoder.describe() if as_json else {}  # before encoding: the fingerprint of a fresh model
    pairs = distinct_pairs(question_sets.values(), bidirectional=bidirectional)
    msg = f"encoding {len(pairs):,} distinct pairs of {len(resolved)} dataset(s) with {encoder.source}"
    err.print(msg, markup=False)
    vectors = encoder.encode(pairs, show_progress_bar=True, batch_size=batch_size)
    row_of = {p: i for i, p in enumerate(pairs)}

    def lookup(wanted: list[Pair]) -> np.ndarray:
        return vectors[[row_of[p] for p in wanted]]

    results = evaluate_analogy_sets(question_sets, lookup)
    both = evaluate_analogy_sets(question_sets, lookup, bidirectional=True) if bidirectional else None

    if as_json:
        rows = [_row(t, r, encoder.source) for t, r in results.items()]
        if both is not None:
            for row, target in zip(rows, results, strict=True):
                row["bidirectional"] = both[target].to_dict()
        if len(rows) == 1 and not skipped:
            print_json({**rows[0], "encoder": described})
        else:
            print_json({"model": encoder.source, "encoder": described, "results": rows, "skipped": skipped})
        return
    _print_tables(results, encoder.source, by_prefix, both)


def _print_tables(
    results: dict[AnalogyTarget, AnalogyResult],
    model: str,
    by_prefix: bool,
    both: dict[AnalogyTarget, AnalogyResult] | None = None,
) -> None:
    out.print(f"analogy accuracy, model {model}", markup=False)
    table = Table()
    table.add_column("dataset", overflow="fold")
    table.add_column("split", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("accuracy %", justify="right", no_wrap=True)
    if both is not None:
        table.add_column("bidirectional %", justify="right", no_wrap=True)
    for target, result in results.items():
        cells = [target.name, target.split or "-", str(result.n), f"{100 * result.accuracy:.1f}"]
        if both is not None:
            cells.append(f"{100 * both[target].accuracy:.1f}")
        table.add_row(*cells)
    out.print(table)
    if not by_prefix:
        return
    for target, result in results.items():
        if not result.by_prefix:
            out.print(f"{target.name}: no prefixes in the file")
            continue
        out.print(f"{target.name} by prefix", markup=False)
        sub = Table()
        sub.add_column("prefix", overflow="fold")
        sub.add_column("n", justify="right", no_wrap=True)
        sub.add_column("accuracy %", justify="right", no_wrap=True)
        for prefix, (correct, n) in sorted(result.by_prefix.items()):
            sub.add_row(prefix, str(n), f"{100 * correct / n:.1f}")
        out.print(sub)
