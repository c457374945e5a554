"""The encoding progress bar on stderr: shards done, pairs, pairs/s and ETA (rich)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


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


@contextlib.contextmanager
def shard_progress(
    *, pairs: int, pairs_done: int, shards: int, shards_done: int, enabled: bool
) -> Iterator[ShardProgress]:
    """Yield a ``ShardProgress``; with ``enabled`` it draws a bar whose rate counts this run only."""
    if not enabled:
        yield ShardProgress(shards_done=shards_done)
        return
    from rich.progress import TextColumn

    from relsearch.progress import rich_progress

    shard_column = TextColumn("shard {task.fields[shards_done]}/{task.fields[shards]}")
    with rich_progress(shard_column, unit="pairs") as bar:
        task = bar.add_task(
            "encoding", total=pairs, completed=pairs_done, shards=shards, shards_done=shards_done
        )
        yield ShardProgress(bar, task, shards_done)
