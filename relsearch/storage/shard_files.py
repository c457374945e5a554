"""``embeddings/part-NNNNN.npy``: normalised float16 vectors, shard ``k`` holding ids
``[k * shard_size, (k + 1) * shard_size)``.

A shard is written atomically (a file that exists is complete) and refused if it holds a
non-finite value; read back, it is checked against its record (size and checksum) and for
finite values before any row is used.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from relsearch.errors import DamagedFileError, RelsearchError
from relsearch.storage.atomic import atomic_write
from relsearch.storage.checksums import FileRecord, check_data, file_record, map_file


class NonFiniteVectorError(RelsearchError, ValueError):
    """An encoder returned a vector with NaN or inf (or too large for float16): never stored."""

    def __init__(self, row: int) -> None:
        self.row = row
        super().__init__(f"row {row} of the vectors is not finite (NaN or inf, or too large for float16)")


def shard_count(n: int, shard_size: int) -> int:
    return -(-n // shard_size)


def shard_range(shard: int, n: int, shard_size: int) -> tuple[int, int]:
    start = shard * shard_size
    return start, min(n, start + shard_size)


def write_shard(path: Path, vectors: np.ndarray) -> FileRecord:
    """Save unit vectors as float16 ``.npy`` atomically; return the file's record.

    Raises ``NonFiniteVectorError`` (and writes nothing) if a value is not finite in float16.
    """
    half = np.ascontiguousarray(vectors, dtype=np.float16)
    finite = np.isfinite(half).all(axis=1)
    if not finite.all():
        raise NonFiniteVectorError(int(np.flatnonzero(~finite)[0]))
    with atomic_write(path, needed=half.nbytes + 128) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, half)
        record = file_record(tmp)
    return record


def _parse(data: Any, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) of an ``.npy`` file whose first bytes are ``data``."""
    head = io.BytesIO(bytes(memoryview(data)[:4096]))
    try:
        version = np.lib.format.read_magic(head)
        reader = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = reader(head)
    except (ValueError, OSError, SyntaxError, EOFError):
        raise DamagedFileError(name, "is not a readable .npy file") from None
    if fortran:
        raise DamagedFileError(name, "is in Fortran order, which relsearch never writes")
    return tuple(shape), dtype, head.tell()


def read_shard(path: Path, rows: int, dim: int, record: FileRecord | None = None, *, name: str) -> np.ndarray:
    """The ``(rows, dim)`` float16 array of a shard (memory-mapped, read-only), checked.

    Raises ``DamagedFileError`` if the file is missing, not ``record``, of another shape or
    dtype, or holds a non-finite value.
    """
    try:
        data = map_file(path)
    except FileNotFoundError:
        raise DamagedFileError(name, "is missing") from None
    except OSError as exc:
        raise DamagedFileError(name, f"cannot be read ({exc})") from None
    check_data(data, record, name)
    shape, dtype, offset = _parse(data, name)
    if dtype != np.float16 or shape != (rows, dim):
        raise DamagedFileError(name, f"holds {dtype} {shape}, expected float16 ({rows}, {dim})")
    if len(data) != offset + rows * dim * 2:
        raise DamagedFileError(name, f"is {len(data):,} bytes, expected {offset + rows * dim * 2:,}")
    array = np.frombuffer(data, dtype="<f2", count=rows * dim, offset=offset).reshape(rows, dim)
    if not np.isfinite(array).all():
        raise DamagedFileError(name, "holds non-finite values (NaN or inf)")
    return array


def shard_header_ok(path: Path, rows: int, dim: int) -> bool:
    """True if ``path`` is a float16 ``(rows, dim)`` ``.npy`` of the right length (no hashing)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            size = fh.seek(0, 2)
        shape, dtype, offset = _parse(head, path.name)
    except (OSError, DamagedFileError):
        return False
    return dtype == np.float16 and shape == (rows, dim) and size == offset + rows * dim * 2
