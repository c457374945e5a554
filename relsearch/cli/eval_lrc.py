"""``relsearch eval-lrc``: lexical relation classification (BLESS, CogALexV, EVALution, K&H+N, ROOT09)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from relsearch.cli.options import DtypeOpt, ModelOpt, WordWeightOpt
from relsearch.cli.output import err, handle_errors, out, print_json
from relsearch.evaluation.classification import ClassificationResult, evaluate_classification, require_sklearn
from relsearch.evaluation.lexical_relations import load_lexical_relation_data, subsample_train
from relsearch.evaluation.shipped import LEXICAL_RELATION_DATASETS, resolve_lexical_relation_dir
from relsearch.evaluation.vector_cache import cached_encode, vector_cache_dir
from relsearch.pairs import Pair


class Grid(str, Enum):
    relbert = "relbert"
    small = "small"


DATASETS_HELP = (
    f"Shipped set ({', '.join(LEXICAL_RELATION_DATASETS)}; any case, K_H+N too) or a directory with "
    "train.tsv, test.tsv and optionally val.tsv (head<TAB>tail<TAB>label). Default: all shipped sets."
)


@handle_errors
def eval_lrc(
    datasets: Annotated[list[str] | None, typer.Argument(help=DATASETS_HELP, show_default=False)] = None,
    model: ModelOpt = None,
    max_train: Annotated[
        int | None, typer.Option(min=1, help="Use a seeded random subset of this many training pairs.")
    ] = None,
    grid: Annotated[
        Grid, typer.Option(help="relbert: lr {1e-3,1e-4,1e-5} x hidden {100,150,200}; small: 2 configs.")
    ] = Grid.relbert,
    seed: Annotated[int, typer.Option(help="Seed of the MLP, the subsample and the holdout.")] = 0,
    batch_size: Annotated[int, typer.Option(min=1, help="Pairs per forward pass.")] = 64,
    dtype: DtypeOpt = "float32",
    word_weight: WordWeightOpt = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse/keep vectors in the relsearch cache dir (keyed by the model).")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object for one dataset, {'results': [...]} for several.")
    ] = False,
) -> None:
    """Train an MLP on frozen relation vectors concat(v(h,t), v(t,h)) and report micro/macro F1 on test."""
    require_sklearn()
    names = datasets or list(LEXICAL_RELATION_DATASETS)
    resolved = dict(resolve_lexical_relation_dir(n) for n in names)
    data = [subsample_train(load_lexical_relation_data(n, d), max_train, seed) for n, d in resolved.items()]
    pairs = list(dict.fromkeys(p for d in data for p in d.all_pairs()))

    from relsearch.encoding import RelationEncoder

    encoder = RelationEncoder(model, dtype=dtype, batch_size=batch_size, word_weight=word_weight)
    described = encoder.describe()  # before encoding: the fingerprint of a fresh model

    def encode(chunk: list[Pair]) -> np.ndarray:
        return encoder.encode(chunk, normalize=False, batch_size=batch_size, show_progress_bar=not cache)

    if cache:
        key = f"{described['fingerprint']}-raw"
        msg = f"{len(pairs):,} distinct pairs (both directions); cache {vector_cache_dir(key)}"
        err.print(msg, markup=False)
        vectors = cached_encode(pairs, encode, key, progress=True)
    else:
        err.print(f"encoding {len(pairs):,} distinct pairs (both directions)", markup=False)
        vectors = encode(pairs)
    row = {p: i for i, p in enumerate(pairs)}

    def lookup(some: list[Pair]) -> np.ndarray:
        return vectors[[row[p] for p in some]]

    results = [evaluate_classification(d, lookup, grid=grid.value, seed=seed, progress=True) for d in data]
    settings = {"model": encoder.source, "grid": grid.value, "max_train": max_train}
    if as_json:
        rows = [{**r.to_dict(), **settings} for r in results]
        if len(rows) == 1:
            print_json({**rows[0], "encoder": described})
        else:
            print_json({**settings, "encoder": described, "results": rows})
        return
    _print_table(results, encoder.source)


def _print_table(results: list[ClassificationResult], model: str) -> None:
    out.print(f"lexical relation classification, model {model}", markup=False)
    table = Table()
    for name in ("dataset", "train", "val", "test", "micro F1 %", "macro F1 %", "selected"):
        table.add_column(name, justify="left" if name in ("dataset", "selected") else "right")
    for r in results:
        train = f"{r.n_train}/{r.n_train_available}" if r.train_subsampled else str(r.n_train)
        val = str(r.n_val) if r.validation == "val" else f"{r.n_val}*"
        table.add_row(
            r.dataset,
            train,
            val,
            str(r.n_test),
            f"{100 * r.f1_micro:.1f}",
            f"{100 * r.f1_macro:.1f}",
            _config_text(r.best_config),
        )
    out.print(table)
    if any(r.validation != "val" for r in results):
        out.print("* no validation split: tuned on 10% of train held out, then refitted on all of train")
    if any(r.train_subsampled for r in results):
        out.print("train n/N: seeded subsample (--max-train) of N pairs; not comparable to full-train scores")


def _config_text(config: dict[str, Any]) -> str:
    return f"lr={config['learning_rate_init']:g} h={config['hidden_layer_sizes'][0]}"
