"""``relsearch export``: an index's pair vectors as word2vec (gensim) or Parquet (pandas, duckdb)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from relsearch.cli.info import human_bytes
from relsearch.cli.output import err, handle_errors, print_json
from relsearch.cli.query_common import IndexOpt
from relsearch.pairs import format_pair

#: Indexes at least this big get a progress bar on stderr.
PROGRESS_FROM = 20_000


@handle_errors
def export(
    out: Annotated[
        Path, typer.Argument(help="File to write (replaced only when complete).", show_default=False)
    ],
    index: IndexOpt = None,
    fmt: Annotated[
        Literal["word2vec", "parquet"],
        typer.Option(
            "--format", "-f", help="word2vec: gensim's format, keys head__tail; parquet: head, tail, vector."
        ),
    ] = "word2vec",
    binary: Annotated[
        bool, typer.Option("--binary", help="word2vec: the binary format (smaller, faster).")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
) -> None:
    """Write every pair vector of an index to OUT, for gensim (word2vec) or pandas/duckdb (parquet).

    word2vec keys are head__tail with spaces inside a word written '_'; pairs whose key would be
    ambiguous (a word with '__', or starting or ending with '_') or repeat another pair's key are
    left out and counted. Parquet keeps every pair with its exact words.
    """
    if binary and fmt != "word2vec":
        raise typer.BadParameter("--binary applies to --format word2vec only", param_hint="--binary")
    from relsearch.index.relation_index import RelationIndex

    idx = RelationIndex.load(index, mmap=True)
    progress = len(idx) >= PROGRESS_FROM
    if fmt == "word2vec":
        from relsearch.export.word2vec import export_word2vec

        report = export_word2vec(idx, out, binary=binary, overwrite=overwrite, progress=progress)
    else:
        from relsearch.export.parquet import export_parquet

        report = export_parquet(idx, out, overwrite=overwrite, progress=progress)
    if report.skipped:
        err.print(
            f"left out {len(report.skipped):,} pair(s) without an unambiguous head__tail key "
            f"(e.g. {format_pair(report.skipped[0])}); --format parquet keeps them",
            markup=False,
        )
    if as_json:
        print_json(
            {
                "path": str(report.path),
                "format": report.format,
                "vectors": report.written,
                "dim": report.dim,
                "skipped": len(report.skipped),
                "bytes": report.bytes,
            }
        )
    err.print(
        f"wrote {report.written:,} pair vectors of dim {report.dim} to {report.path} "
        f"({report.format}, {human_bytes(report.bytes)})",
        markup=False,
    )
