"""``relsearch encode``: relation vectors for a few pairs."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from relsearch.cli.options import DtypeOpt, ModelOpt
from relsearch.cli.output import handle_errors, out, print_json
from relsearch.pairs import parse_pairs


@handle_errors
def encode(
    pairs: Annotated[list[str], typer.Argument(help="Pairs as head:tail (escape a literal ':' as '\\:').")],
    model: ModelOpt = None,
    template: Annotated[
        str | None, typer.Option(help="Template id a-e or full text (overrides the model's).")
    ] = None,
    aggregation: Annotated[
        str | None, typer.Option(help="Pooling: average_no_mask, average or mask.")
    ] = None,
    dtype: DtypeOpt = "float32",
    sep: Annotated[str, typer.Option(help="Separator between head and tail.")] = ":",
    as_json: Annotated[bool, typer.Option("--json", help="Print vectors as JSON.")] = False,
) -> None:
    """Encode word pairs into L2-normalised relation vectors."""
    parsed = parse_pairs(pairs, sep=sep)
    from relsearch.encoding import RelationEncoder

    encoder = RelationEncoder(model, template=template, aggregation=aggregation, dtype=dtype)
    vectors = encoder.encode(parsed)
    if as_json:
        print_json(
            [
                {"head": h, "tail": t, "vector": [round(float(x), 7) for x in v]}
                for (h, t), v in zip(parsed, vectors, strict=True)
            ]
        )
        return
    table = Table(title=Text(f"{len(parsed)} relation vector(s), dim {encoder.dim}, model {encoder.source}"))
    for name in ("head", "tail", "norm", "first values"):
        table.add_column(name)
    for (h, t), v in zip(parsed, vectors, strict=True):
        cells = (h, t, f"{np.linalg.norm(v):.4f}", " ".join(f"{x:+.4f}" for x in v[:4]) + " …")
        table.add_row(*(Text(cell) for cell in cells))  # Text: words are not markup
    out.print(table)
    if len(parsed) > 1:
        sims = vectors @ vectors.T
        out.print(f"cosine({parsed[0][0]}:{parsed[0][1]}, {parsed[1][0]}:{parsed[1][1]}) = {sims[0, 1]:.4f}")
