"""Options shared by several commands."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model directory, fast (the shipped distilled model), pypi:<base model>, or hub id "
        "(network only). Default: relsearch's model.",
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
        help="Inference precision. auto: the one calibrated on this machine for the model (build-index "
        "calibrates once), else from CPU flags (bfloat16 with bf16 units or a GPU, int8 with VNNI, "
        "else float32).",
    ),
]

Backend = Literal["auto", "torch", "openvino"]
BackendOpt = Annotated[
    Backend,
    typer.Option(
        help="Inference backend: torch, openvino (pip install 'relsearch[openvino]'), or auto: with "
        "--dtype auto too, the fastest backend and precision measured on this machine that keep the "
        "vectors within the accuracy gate (calibrated once per CPU and model, then cached).",
    ),
]
