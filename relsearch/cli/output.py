"""Shared CLI plumbing: consoles, error handling, JSON output."""

from __future__ import annotations

import functools
import json
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from relsearch.errors import RelsearchError

F = TypeVar("F", bound=Callable[..., Any])

#: Results go to stdout, everything else (progress, logs, errors) to stderr.
out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class State:
    """Global options set by the app callback."""

    verbose: bool = False


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(verbose: bool) -> None:
    """Log relsearch messages to stderr; INFO with ``--verbose``, WARNING otherwise."""
    State.verbose = verbose
    logger = logging.getLogger("relsearch")
    logger.handlers.clear()
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("relsearch: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line on stderr and return the exit to raise."""
    err.print(Text("error: ", style="bold red") + Text(message))
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn ``RelsearchError`` into one line and exit 1, Ctrl-C into exit 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RelsearchError as exc:
            if State.verbose:
                err.print(traceback.format_exc(), markup=False)
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def print_json(payload: Any) -> None:
    """Write JSON on stdout without rich formatting (safe to pipe)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()
