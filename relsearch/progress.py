"""A rich progress bar on stderr (items/s and ETA) that is a no-op when disabled."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def _rate_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second, blank until measured."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f}/s")

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
    with rich_progress() as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
