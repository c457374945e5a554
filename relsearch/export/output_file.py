"""Where an export may write, and writing it through relsearch's one atomic-write helper."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from relsearch.errors import RelsearchError
from relsearch.storage.atomic import atomic_write


def check_output(path: Path, overwrite: bool) -> None:
    """``path`` must be a new file in an existing folder (or an existing file, with ``overwrite``)."""
    if path.is_dir():
        raise RelsearchError(f"{str(path)!r} is a directory; give a file name to export to")
    if path.exists() and not overwrite:
        raise RelsearchError(f"{str(path)!r} exists; pass --overwrite to replace it")
    if not path.parent.is_dir():
        raise RelsearchError(f"the folder {str(path.parent)!r} does not exist; create it first")


@contextlib.contextmanager
def replaced_on_success(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path`` that replaces it on a clean exit; on any error (Ctrl-C
    included) the temp file is deleted and ``path`` is untouched. A failed write is a
    ``RelsearchError`` naming the file (a full disk: ``DiskFullError``)."""
    try:
        with atomic_write(path) as tmp:
            yield tmp
    except RelsearchError:
        raise
    except OSError as exc:
        raise RelsearchError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
