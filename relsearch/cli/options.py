"""Options shared by several commands."""

from __future__ import annotations

from typing import Annotated, Literal

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
#: Inference precisions (relsearch.encoding.precision.DTYPES; repeated here so the CLI loads no torch).
Dtype = Literal["auto", "float32", "bfloat16", "int8"]
DtypeOpt = Annotated[
    Dtype,
    typer.Option(
        help="Inference precision. auto: the fastest that keeps accuracy on this machine (int8 on CPUs "
        "with VNNI/AMX, bfloat16 with bf16 units or a GPU, else float32).",
    ),
]
