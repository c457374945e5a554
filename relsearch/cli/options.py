"""Options shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model directory, pypi:<base model>, or hub id (network only). Default: relsearch's model.",
        envvar="RELSEARCH_MODEL",
    ),
]
WordWeightOpt = Annotated[
    float | None,
    typer.Option(
        "--word-weight",
        help="Override the model's word_difference_weight (0 = pure RelBERT prompt vectors).",
    ),
]
DtypeOpt = Annotated[str, typer.Option(help="Inference precision: float32 or bfloat16.")]
