"""``relsearch verify``: check every file of an index against its manifest; ``--repair`` rewrites
what can be recomputed."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from relsearch.cli.output import err, handle_errors, out, print_json
from relsearch.cli.query_common import IndexOpt, JsonOpt


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _print_report(report: Any) -> None:
    what = "sizes and xxh3-128 checksums" if report.checksums else "contents only (no checksums recorded)"
    for problem in report.problems:
        err.print(Text(f"damaged: {problem.file} {problem.problem}\n  fix: {problem.hint}"))
    for leftover in report.leftovers:
        err.print(
            Text(
                f"note: {leftover} is a temp file left by a killed writer (the next build or add removes it)"
            )
        )
    if report.ok:
        out.print(
            Text(
                f"ok: {report.files} files ({_megabytes(report.bytes)}) in {report.index_dir} checked in "
                f"{report.seconds:.1f} s ({what})"
            )
        )
        if not report.checksums:
            out.print(Text("this index was built without checksums: `relsearch verify --repair` adds them"))
    else:
        err.print(Text(f"{len(report.problems)} of {report.files} files damaged in {report.index_dir}"))


@handle_errors
def verify(
    index: IndexOpt = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Rewrite damaged files that can be recomputed: shards and word vectors (with the "
            "index's model), index.faiss (from the shards).",
        ),
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="--repair: where the index's model is, if not where its manifest says."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every file of an index (sizes, checksums, contents); exit 1 if any is damaged."""
    from relsearch.storage.layout import default_index_dir

    path = index if index is not None else default_index_dir()
    if repair:
        from index_builder.repair import repair_index

        result = repair_index(path, model=model)
        for name in result.repaired:
            err.print(Text(f"repaired: {name}"))
        report = result.after
    else:
        from relsearch.index.verify import verify_index

        report = verify_index(path)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)
