"""File records: a file's size and its xxh3-128 checksum, as the manifest and checkpoint hold them.

xxh3-128 (the ``xxhash`` package) is a non-cryptographic hash that runs at several GB/s on
one core, about 9x SHA-256 here: it finds the flipped bytes and truncations of a damaged disk
or copy, which is what the checksums are for; it does not defend against deliberate tampering.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from relsearch.errors import DamagedFileError

HASH_NAME = "xxh3_128"
#: Bytes hashed per read when a file is hashed from disk.
CHUNK = 8 << 20


@dataclass(frozen=True)
class FileRecord:
    """``bytes`` and ``xxh3_128`` (hex) of one file."""

    bytes: int
    xxh3_128: str

    def to_dict(self) -> dict[str, Any]:
        return {"bytes": self.bytes, HASH_NAME: self.xxh3_128}

    @classmethod
    def from_dict(cls, raw: Any) -> FileRecord | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("bytes"), int):
            return None
        digest = raw.get(HASH_NAME)
        return cls(raw["bytes"], digest) if isinstance(digest, str) else None


def digest(data: Any) -> str:
    """xxh3-128 of a bytes-like object (bytes, memoryview, mmap, numpy buffer)."""
    return xxhash.xxh3_128(data).hexdigest()


def file_record(path: Path) -> FileRecord:
    """Size and checksum of the file at ``path`` (read in chunks)."""
    hasher = xxhash.xxh3_128()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            hasher.update(block)
            size += len(block)
    return FileRecord(size, hasher.hexdigest())


def map_file(path: Path) -> mmap.mmap | bytes:
    """The file's bytes, memory-mapped (an empty file as ``b""``: it cannot be mapped)."""
    with open(path, "rb") as fh:
        if fh.seek(0, 2) == 0:
            return b""
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def check_size(path: Path, record: FileRecord | None, name: str) -> None:
    """Raise ``DamagedFileError`` if ``path`` is missing or not ``record.bytes`` long."""
    if not path.is_file():
        raise DamagedFileError(name, "is missing")
    if record is not None:
        size = path.stat().st_size
        if size != record.bytes:
            raise DamagedFileError(name, f"is {size:,} bytes, the manifest says {record.bytes:,}")


def check_data(data: Any, record: FileRecord | None, name: str) -> None:
    """Raise ``DamagedFileError`` if ``data`` does not match ``record`` (None: nothing to check)."""
    if record is None:
        return
    size = len(memoryview(data).cast("B")) if len(data) else 0
    if size != record.bytes:
        raise DamagedFileError(name, f"is {size:,} bytes, the manifest says {record.bytes:,}")
    if digest(data) != record.xxh3_128:
        raise DamagedFileError(name, "does not match its checksum (its bytes changed since it was written)")


def check_file(path: Path, record: FileRecord | None, name: str) -> None:
    """Hash the file at ``path`` (memory-mapped) and compare it with ``record`` (None: nothing to check)."""
    if record is None:
        return
    try:
        data = map_file(path)
    except OSError as exc:
        raise DamagedFileError(name, f"cannot be read ({exc})") from None
    check_data(data, record, name)


def records_to_dict(records: Iterable[tuple[str, FileRecord]]) -> dict[str, dict[str, Any]]:
    return {name: record.to_dict() for name, record in sorted(records)}


def short(exc: BaseException, limit: int = 100) -> str:
    """The first line of an exception's message, cut to ``limit`` characters."""
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"
