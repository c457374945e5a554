"""What an ``--out`` directory holds, and removing a relsearch index (only its own files)."""

from __future__ import annotations

import enum
import json
from pathlib import Path

from relsearch.errors import IndexFormatError
from relsearch.storage.atomic import TEMP_PATTERN
from relsearch.storage.layout import (
    CHECKPOINT_FILE,
    EMBEDDINGS_DIR,
    FORMAT_NAME,
    LOCK_FILE,
    MANIFEST_FILE,
    VERIFIED_FILE,
    is_index_file,
)


class DirState(enum.Enum):
    EMPTY = "empty"  # missing, or an empty directory
    COMPLETE = "complete"  # a manifest: a finished index
    PARTIAL = "partial"  # a checkpoint and no manifest: a build to resume
    FOREIGN = "foreign"  # anything else: never touched


def _is_manifest(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format") == FORMAT_NAME
    except (OSError, ValueError, AttributeError):
        return False


def inspect_out_dir(path: Path) -> DirState:
    """Classify ``path`` (see ``DirState``)."""
    if not path.exists():
        return DirState.EMPTY
    if not path.is_dir():
        return DirState.FOREIGN
    if _is_manifest(path / MANIFEST_FILE):
        return DirState.COMPLETE
    if (path / EMBEDDINGS_DIR / CHECKPOINT_FILE).is_file():
        return DirState.PARTIAL
    entries = [p for p in path.iterdir() if p.name != LOCK_FILE]
    embeddings = path / EMBEDDINGS_DIR
    if not entries or (entries == [embeddings] and embeddings.is_dir() and not any(embeddings.iterdir())):
        return DirState.EMPTY
    return DirState.FOREIGN


def foreign_error(path: Path) -> IndexFormatError:
    if path.exists() and not path.is_dir():
        return IndexFormatError(f"--out {str(path)!r} is a file, not a directory; choose another --out")
    names = sorted(p.name for p in path.iterdir() if p.name != LOCK_FILE)
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return IndexFormatError(
        f"--out {str(path)!r} holds files that are not a relsearch index ({shown}); choose an empty or "
        "new directory (relsearch never deletes files it did not write, even with --overwrite)"
    )


def remove_index(path: Path) -> None:
    """Delete a relsearch index or partial build in ``path``: the manifest first, then the rest
    (only the files relsearch writes, of every generation)."""
    (path / MANIFEST_FILE).unlink(missing_ok=True)
    (path / VERIFIED_FILE).unlink(missing_ok=True)
    for folder in (path, path / EMBEDDINGS_DIR):
        if not folder.is_dir():
            continue
        for item in folder.glob("*"):
            if item.is_file() and is_index_file(str(item.relative_to(path))):
                item.unlink()
        for tmp in folder.glob(TEMP_PATTERN):
            tmp.unlink(missing_ok=True)
    embeddings = path / EMBEDDINGS_DIR
    (embeddings / CHECKPOINT_FILE).unlink(missing_ok=True)
    if embeddings.is_dir() and not any(embeddings.iterdir()):
        embeddings.rmdir()


def remove_if_empty(path: Path) -> None:
    """Remove a directory this build created if nothing but its lock (and an empty
    ``embeddings/``) is in it."""
    try:
        entries = {p.name for p in path.iterdir()}
        if entries - {LOCK_FILE, EMBEDDINGS_DIR} or any((path / EMBEDDINGS_DIR).glob("*")):
            return
        if EMBEDDINGS_DIR in entries:
            (path / EMBEDDINGS_DIR).rmdir()
        (path / LOCK_FILE).unlink(missing_ok=True)
        path.rmdir()
    except OSError:
        pass
