"""``relsearch add`` and ``relsearch remove``: change an index without rebuilding it."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from relsearch.cli.output import err, fail, handle_errors, out, print_json
from relsearch.cli.query_common import IndexModelOpt, IndexOpt, JsonOpt

PairsOpt = Annotated[
    Path | None,
    typer.Option(
        "--pairs", help="Pairs file: TSV/CSV/Parquet with head, tail (+ the index's metadata columns)."
    ),
]


def _index_dir(index: Path | None) -> Path:
    from relsearch.storage.layout import default_index_dir

    return index if index is not None else default_index_dir()


def _interrupted() -> typer.Exit:
    command = "relsearch " + shlex.join(sys.argv[1:])
    err.print(
        Text(f"interrupted: the index is as it was; run the same command again to finish:\n  {command}")
    )
    return typer.Exit(130)


def _print(report: Any, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    if report.kind == "add":
        if not report.changed:
            out.print(Text(f"nothing to add: all {report.requested:,} pair(s) are already in the index"))
            return
        out.print(
            Text(f"added {report.changed:,} pair(s); {report.skipped:,} already in the index were skipped")
        )
        out.print(Text(f"encoded {report.pairs_encoded:,} pair(s) into {report.shards_written} shard(s)"))
    else:
        out.print(Text(f"removed {report.changed:,} pair(s); {report.skipped:,} were not in the index"))
    out.print(Text(f"faiss: {report.faiss}; the index now holds {report.pairs:,} pairs"))


@handle_errors
def add(
    vocab: Annotated[
        Path | None,
        typer.Argument(
            help="Vocabulary whose candidate pairs (k nearest words each, as in the build) to add."
        ),
    ] = None,
    pairs: PairsOpt = None,
    index: IndexOpt = None,
    model: IndexModelOpt = None,
    k: Annotated[
        int | None, typer.Option("--k", help="VOCAB: nearest words per word (default: the build's).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Pairs per forward pass (default: the build's).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add pairs to an index: only the pairs it lacks are encoded; crash-safe (re-run to resume)."""
    if (vocab is None) == (pairs is None):
        raise fail("give exactly one of VOCAB and --pairs (e.g. `relsearch add --pairs new.tsv`)", code=2)
    from index_builder.update import add_pairs

    try:
        report = add_pairs(
            _index_dir(index),
            pairs=pairs,
            vocab=vocab,
            model=model,
            k=k,
            batch_size=batch_size,
            progress=True,
        )
    except KeyboardInterrupt:
        raise _interrupted() from None
    _print(report, as_json)


@handle_errors
def remove(
    pairs: Annotated[
        Path, typer.Option("--pairs", help="Pairs file (TSV/CSV/Parquet with head, tail) to remove.")
    ],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove pairs from an index (nothing is encoded); crash-safe (re-run to finish)."""
    from index_builder.update import remove_pairs

    try:
        report = remove_pairs(_index_dir(index), pairs=pairs, progress=True)
    except KeyboardInterrupt:
        raise _interrupted() from None
    _print(report, as_json)
