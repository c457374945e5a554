"""A rich progress bar on stderr (items/s and ETA) that is a no-op when disabled.

When stderr is not a terminal (a log file, ``nohup``), rich would draw nothing until the end,
so the bar becomes plain lines instead: one at every tenth of the work, with rate and ETA.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any


def rate_text(per_second: float) -> str:
    """``1,234/s``, ``3.5/s``, or per minute below one a second (``12.0/min``, not ``0/s``)."""
    if per_second >= 10:
        return f"{per_second:,.0f}/s"
    if per_second >= 1:
        return f"{per_second:.1f}/s"
    return f"{60 * per_second:.1f}/min"


def _rate_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second, blank until measured."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else rate_text(speed))

    return RateColumn()


def rich_progress(*extra_columns: Any, unit: str = "") -> Any:
    """A rich ``Progress`` on stderr: description, bar, extra columns, done/total [unit], rate, times."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *extra_columns,
        MofNCompleteColumn(),
        *([TextColumn(unit)] if unit else []),
        _rate_column(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


@contextlib.contextmanager
def progress_bar(total: int, description: str, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a bar with rate and ETA on stderr when ``enabled``."""
    if not enabled:
        yield lambda n: None
        return
    if not sys.stderr.isatty():
        yield _line_progress(total, description, sys.stderr.write)
        return
    with rich_progress() as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


def _line_progress(total: int, description: str, write: Callable[[str], Any]) -> Callable[[int], None]:
    """``advance(n)`` that writes ``description: done/total (p%), rate, ETA`` at each tenth of ``total``."""
    start, done, next_tenth = time.perf_counter(), 0, 1

    def advance(n: int) -> None:
        nonlocal done, next_tenth
        done += n
        if total <= 0 or done * 10 < next_tenth * total:
            return
        next_tenth = done * 10 // total + 1
        elapsed = time.perf_counter() - start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f", ETA {_clock((total - done) / rate)}" if rate and done < total else ""
        write(f"{description}: {done:,}/{total:,} ({100 * done // total}%), {rate_text(rate)}{eta}\n")

    return advance
