"""The ``relsearch`` command line (typer + rich): one module per command."""
