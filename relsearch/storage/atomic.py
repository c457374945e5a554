"""``atomic_write``: the one way relsearch writes a file (temp file, fsync, rename, fsync folder).

A reader sees the old file or the new one, never a part; a process killed mid-write leaves
a ``.NAME.tmp-PID`` file that ``remove_temp_files`` deletes. A full disk (``ENOSPC``,
``EDQUOT``) becomes a ``DiskFullError`` that names the folder and the size to free.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from relsearch.errors import DiskFullError

TEMP_PATTERN = ".*.tmp-*"


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def disk_full_error(path: Path, exc: OSError, needed: int | None = None) -> DiskFullError:
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = 0
    need = f"; it needs about {needed / 1e6:,.0f} MB" if needed else ""
    return DiskFullError(
        f"no space left on the device of {path.parent} while writing {path.name} ({free / 1e6:,.0f} MB "
        f"free{need}); free some space there and run the same command again (nothing written so far "
        "is lost)"
    )


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], *, needed: int | None = None) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on a clean exit, fsync it and rename it onto ``path``.

    The caller writes the temp path however it likes (``open``, ``pq.write_table``,
    ``faiss.write_index``). On any error the temp file is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full_error(path, exc, needed) from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_write(path, needed=len(data)) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    write_bytes_atomic(Path(path), text.encode("utf-8"))


def remove_temp_files(folder: Path) -> None:
    """Delete the temp files a killed writer left in ``folder`` (never a finished file)."""
    for tmp in folder.glob(TEMP_PATTERN):
        tmp.unlink(missing_ok=True)
