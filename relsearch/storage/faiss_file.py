"""``index.faiss``: the FAISS index, plain ``faiss.write_index`` output (inner product, unit vectors).

Loading checks the file against its record (size and xxh3-128) unless ``verify=False``: at
1M pairs of the builder's ``IVF-SQ8`` type (about 800 MB) hashing costs a fraction of what
``faiss.read_index`` itself takes (measured in docs/build-index.md), so it is on by default.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from relsearch.errors import DamagedFileError, IndexFormatError
from relsearch.storage.atomic import atomic_write
from relsearch.storage.checksums import FileRecord, check_file, file_record
from relsearch.storage.layout import FAISS_FILE

log = logging.getLogger("relsearch")


def write_faiss_index(index: Any, path: Path) -> FileRecord:
    """``faiss.write_index`` atomically; return the file's record."""
    import faiss

    with atomic_write(path) as tmp:
        try:
            faiss.write_index(index, str(tmp))
        except RuntimeError as exc:
            raise OSError(f"faiss could not write {tmp}: {str(exc).splitlines()[0]}") from exc
        record = file_record(tmp)
    return record


def check_faiss_file(path: Path, record: FileRecord | None) -> None:
    """Hash ``index.faiss`` and compare it with ``record`` (``DamagedFileError`` if it differs)."""
    check_file(path, record, FAISS_FILE)


def read_faiss_index(
    path: Path, record: FileRecord | None = None, *, mmap: bool = False, verify: bool = True
) -> Any:
    """Read ``index.faiss`` (memory-mapped where the type allows, with ``mmap``), checked first."""
    import faiss

    if verify and record is not None:
        check_faiss_file(path, record)
    flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
    try:
        return faiss.read_index(str(path), flags)
    except RuntimeError as exc:
        if mmap:  # not every index type can be memory-mapped
            log.info("cannot memory-map %s (%s); reading it into memory", path, str(exc).splitlines()[0])
            return read_faiss_index(path, mmap=False, verify=False)
        raise DamagedFileError(FAISS_FILE, f"cannot be read by FAISS ({str(exc).splitlines()[0]})") from None


def apply_search_params(index: Any, params: dict[str, Any], where: str) -> None:
    """Set the manifest's ``search_params`` (e.g. ``nprobe``) on a loaded index."""
    import faiss

    space = faiss.ParameterSpace()
    for name, value in (params or {}).items():
        try:
            space.set_index_parameter(index, str(name), float(value))
        except (RuntimeError, TypeError, ValueError) as exc:
            raise IndexFormatError(
                f"the manifest of {where!r} sets search parameter {name}={value!r}, which its "
                f"FAISS index does not take: {str(exc).splitlines()[0]}"
            ) from exc
