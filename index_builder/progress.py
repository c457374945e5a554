"""Encoding progress on stderr: a rich bar on a terminal, a plain line per shard otherwise.

Without a terminal (nohup, CI, a log file) a bar would print nothing until the end, so each
finished shard writes one line instead: shards done, pairs done, pairs/s and the ETA, all
counted over this run (a resumed build's kept shards do not inflate the rate).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO


class ShardProgress:
    """Counts pairs and shards; draws nothing unless a rich task is attached."""

    def __init__(self, bar: Any = None, task: Any = None, shards_done: int = 0) -> None:
        self._bar, self._task, self.shards_done = bar, task, shards_done

    def advance(self, pairs: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, pairs)

    def shard_done(self) -> None:
        self.shards_done += 1
        if self._bar is not None:
            self._bar.update(self._task, shards_done=self.shards_done)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


class PlainProgress(ShardProgress):
    """One line per finished shard on ``stream``: for logs, where a bar cannot be drawn."""

    def __init__(self, stream: TextIO, *, pairs: int, pairs_done: int, shards: int, shards_done: int) -> None:
        super().__init__(shards_done=shards_done)
        self.stream, self.pairs, self.shards = stream, pairs, shards
        self.pairs_done, self._start_pairs = pairs_done, pairs_done
        self._t0 = time.monotonic()

    def advance(self, pairs: int) -> None:
        self.pairs_done += pairs

    def shard_done(self) -> None:
        super().shard_done()
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = (self.pairs_done - self._start_pairs) / elapsed
        left = self.pairs - self.pairs_done
        eta = _duration(left / rate) if rate > 0 else "?"
        self.stream.write(
            f"encoding: shard {self.shards_done}/{self.shards}, {self.pairs_done:,}/{self.pairs:,} pairs, "
            f"{rate:,.0f} pairs/s, ETA {eta}\n"
        )
        self.stream.flush()


@contextlib.contextmanager
def shard_progress(
    *, pairs: int, pairs_done: int, shards: int, shards_done: int, enabled: bool, stream: TextIO | None = None
) -> Iterator[ShardProgress]:
    """Yield a ``ShardProgress``; with ``enabled``, a bar on a terminal and plain lines elsewhere.

    ``stream`` (default ``sys.stderr``, looked up at call time) is where it goes.
    """
    stream = stream if stream is not None else sys.stderr
    if not enabled:
        yield ShardProgress(shards_done=shards_done)
        return
    if not stream.isatty():
        yield PlainProgress(
            stream, pairs=pairs, pairs_done=pairs_done, shards=shards, shards_done=shards_done
        )
        return
    from rich.progress import TextColumn

    from relsearch.progress import rich_progress

    shard_column = TextColumn("shard {task.fields[shards_done]}/{task.fields[shards]}")
    with rich_progress(shard_column, unit="pairs") as bar:
        task = bar.add_task(
            "encoding", total=pairs, completed=pairs_done, shards=shards, shards_done=shards_done
        )
        yield ShardProgress(bar, task, shards_done)
