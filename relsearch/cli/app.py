"""The ``relsearch`` typer application and its entry point."""

from __future__ import annotations

from typing import Annotated

import typer

from relsearch import __version__
from relsearch.cli import (
    analogy,
    build_index,
    distill,
    encode,
    eval_lrc,
    export,
    info,
    query,
    serve,
    soup,
    train,
    update,
    verify,
)
from relsearch.cli import eval as eval_cmd
from relsearch.cli.output import setup_logging

app = typer.Typer(
    name="relsearch",
    help="Relational nearest-neighbour search: find word pairs in the same relation as a given pair.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"relsearch {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more; show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """relsearch: RelBERT relation vectors + FAISS search."""
    setup_logging(verbose)


app.command("encode")(encode.encode)
app.command("eval")(eval_cmd.eval_analogies)
app.command("eval-lrc")(eval_lrc.eval_lrc)
app.command("build-index")(build_index.build_index)
app.command("query")(query.query)
app.command("analogy")(analogy.analogy)
app.command("info")(info.info)
app.command("verify")(verify.verify)
app.command("add")(update.add)
app.command("remove")(update.remove)
app.command("train")(train.train)
app.command("distill")(distill.distill)
app.command("soup")(soup.soup)
app.command("serve")(serve.serve)
app.command("export")(export.export)


def main() -> None:
    """Console-script entry point."""
    app()
