"""Options and output shared by ``query``, ``analogy`` and ``info``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from relsearch.index.hit import Hit
from relsearch.pairs import format_pair

IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index",
        "-i",
        help="Index directory. Default: $RELSEARCH_INDEX or ./relsearch-index.",
        show_default=False,
    ),
]
KOpt = Annotated[int, typer.Option("-k", help="Number of results.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
MmapOpt = Annotated[
    bool, typer.Option("--mmap", help="Memory-map the FAISS index and the vectors instead of reading them.")
]
SepOpt = Annotated[str, typer.Option(help="Separator between head and tail.")]
NoVerifyOpt = Annotated[
    bool,
    typer.Option(
        "--no-verify",
        help="Skip the checksum of index.faiss at load (about 0.4 s per 800 MB); sizes and the other "
        "files are still checked.",
    ),
]
IndexModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Where the index's model is, if not where its manifest says (it must be the same model).",
    ),
]


def clamp_k(k: int, n: int) -> int:
    """``k``, or the index's size if it holds fewer pairs (said on stderr)."""
    if 0 < n < k:
        from relsearch.cli.output import err

        err.print(f"the index holds only {n} pair(s): showing at most {n} (-k {k} asked for more)")
        return n
    return k


def hit_table(
    title: str,
    hits: Sequence[Hit],
    metadata_columns: Sequence[str],
    answer: str | None = None,
    caption: str | None = None,
) -> Table:
    """A rich table of hits: rank, (answer), pair, cosine to 4 decimals, metadata columns."""
    table = Table(title=Text(title), title_justify="left", caption=caption, caption_justify="left")
    table.add_column("#", justify="right")
    if answer:
        table.add_column("answer", style="bold")
    table.add_column("pair")
    table.add_column("score", justify="right")
    for name in metadata_columns:
        table.add_column(name)
    for hit in hits:
        cells: list[str] = [str(hit.rank)]
        if answer:
            cells.append(hit.tail if answer == "tail" else hit.head)
        cells += [format_pair(hit.pair), f"{hit.score:.4f}"]
        cells += [_cell(hit.metadata.get(name)) for name in metadata_columns]
        table.add_row(*(Text(cell) for cell in cells))  # Text: words and metadata are not markup
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
