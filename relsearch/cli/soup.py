"""``relsearch soup``: average the weights of relation models trained from the same base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relsearch.cli.output import err, fail, handle_errors, out, print_json


def _line(label: str, scores: dict[str, float]) -> str:
    cells = " ".join(f"{k} {100 * v:.1f}" for k, v in scores.items() if k != "mean")
    return f"{label}: valid analogy {cells}  mean {100 * scores['mean']:.1f}"


@handle_errors
def soup(
    models: Annotated[list[str], typer.Argument(help="Two or more models (directories) from one base.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the averaged model.")],
    method: Annotated[
        str,
        typer.Option(
            help="greedy: best first, keep a model only if the average's validation mean does not "
            "drop; uniform: average all."
        ),
    ] = "greedy",
    data: Annotated[
        Path | None,
        typer.Option(help="Shared data folder (analogy_questions/). Default: as relsearch train."),
    ] = None,
    dtype: Annotated[
        str, typer.Option(help="Precision of the validation passes: float32 or bfloat16.")
    ] = "float32",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Average models fine-tuned from one base (a model soup), chosen on validation splits."""
    from relsearch.training.semeval import default_data_dir
    from relsearch.training.soup import METHODS, SoupKitchen, export_soup
    from relsearch.training.validation import load_valid_sets

    if method not in METHODS:
        raise fail(f"--method must be one of {', '.join(METHODS)}, not {method!r}")
    if dtype not in ("float32", "bfloat16"):
        raise fail(f"--dtype must be float32 or bfloat16, not {dtype!r}")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise fail(f"--out {str(out_dir)!r} is not empty; pass --overwrite to replace it")
    sets = load_valid_sets(data.expanduser() if data else default_data_dir())
    kitchen = SoupKitchen(
        models, sets, dtype=dtype, on_score=lambda label, s: err.print(_line(label, s), markup=False)
    )
    result = kitchen.cook(method)
    info = export_soup(kitchen, result, out_dir)
    summary = {**result.to_dict(), "model": str(out_dir), "export": info}
    if as_json:
        print_json(summary)
        return
    if len(result.chosen) == 1:
        out.print(
            f"no average scored higher than the best single model ({result.chosen[0]}, mean validation "
            f"analogy accuracy {100 * result.scores['mean']:.1f}%); wrote it as is -> {out_dir}",
            soft_wrap=True,
        )
        return
    out.print(
        f"soup of {len(result.chosen)} of {len(models)} models: mean validation analogy accuracy "
        f"{100 * result.scores['mean']:.1f}% (best single model "
        f"{100 * result.ingredients[0].scores['mean']:.1f}%) -> {out_dir}",
        soft_wrap=True,
    )
