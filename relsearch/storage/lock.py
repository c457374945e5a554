"""``.relsearch.lock``: one writer at a time per index directory (a build, an update, a verify).

The lock is an ``flock`` on the file, which the kernel releases when its holder exits in any
way (kill -9 included), so a stale lock never blocks; while held, the file holds the holder's
pid and command, which a refused writer quotes. Readers take no lock: a writer
never changes a file that the current manifest names (see :mod:`relsearch.storage.manifest`).
POSIX only (``fcntl``); on network file systems ``flock`` is only as good as the server's.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from types import TracebackType

from relsearch.errors import IndexLockedError
from relsearch.storage.layout import LOCK_FILE
from relsearch.storage.manifest import now_utc


def _holder(fd: int) -> str:
    try:
        raw = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        raw = {}
    if not isinstance(raw, dict) or "pid" not in raw:
        return "another process"
    what = f"{raw.get('purpose', '?')}, since {raw.get('since', '?')}"
    return f"pid {raw['pid']} on {raw.get('host', '?')} ({what})"


class IndexLock:
    """``with IndexLock(dir, "relsearch add"):`` holds the directory's write lock, or raises
    ``IndexLockedError`` at once if another process holds it."""

    def __init__(self, index_dir: str | os.PathLike[str], purpose: str) -> None:
        self.path = Path(index_dir) / LOCK_FILE
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> IndexLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise IndexLockedError(
                f"{self.path.parent} is being written by {holder}; wait for it to finish (or stop it), "
                "then run this command again"
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": self.purpose, "since": now_utc()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # empty while nobody holds it
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> IndexLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
