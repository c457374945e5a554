"""``python -m relsearch`` runs the CLI."""

from relsearch.cli.app import main

main()
