"""Shared CLI plumbing: consoles, error handling, JSON output."""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from relsearch.errors import RelsearchError

F = TypeVar("F", bound=Callable[..., Any])

#: Results go to stdout, everything else (progress, logs, errors) to stderr. Neither console
#: reads markup or emoji codes: user words such as ``a[/b]`` or ``:smile:`` print verbatim.
out = Console(highlight=False, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


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
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EPIPE, errno.EDQUOT):
                raise
            _silence_stdout()  # the interpreter's final flush would fail the same way
            if exc.errno == errno.EPIPE:  # `relsearch query ... | head`: the reader left
                raise typer.Exit(0) from None
            raise fail(
                f"cannot write the results: {exc.strerror} (stdout); free some space or write elsewhere"
            ) from None

    return wrapper  # type: ignore[return-value]


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def print_json(payload: Any) -> None:
    """Write JSON on stdout without rich formatting (safe to pipe)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()
