"""``verify_index``: check every file of an index, like ``git fsck`` over a repository.

Each file the manifest lists is re-read: its size and xxh3-128 checksum against the manifest,
then its content (Parquet readable with the right rows, shards of the right shape with finite
values, the FAISS index readable with the right count, dimension and metric). Every damaged
file is named with what to do about it; the outcome is stored in ``verified.json``, which
``relsearch info`` shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from relsearch.errors import DamagedFileError, RelsearchError
from relsearch.index.pair_table import PairTable
from relsearch.storage.atomic import TEMP_PATTERN
from relsearch.storage.checksums import FileRecord, file_record
from relsearch.storage.faiss_file import read_faiss_index
from relsearch.storage.layout import (
    EMBEDDINGS_DIR,
    shard_number,
)
from relsearch.storage.lock import IndexLock
from relsearch.storage.manifest import IndexPaths, file_records, now_utc, read_manifest_only
from relsearch.storage.pairs_parquet import read_pairs
from relsearch.storage.repair_hint import repair_hint
from relsearch.storage.shard_files import read_shard, shard_range
from relsearch.storage.verify_record import write_verify_record
from relsearch.storage.word_vectors_file import read_word_vectors


@dataclass(frozen=True)
class FileProblem:
    """A damaged file: its name in the index, what is wrong, and what to do."""

    file: str
    problem: str
    hint: str


@dataclass
class VerifyReport:
    """What ``verify_index`` checked and found."""

    index_dir: str
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    checksums: bool = True
    problems: list[FileProblem] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def expected_files(manifest: dict[str, Any]) -> list[str]:
    """Every file a complete index with this manifest holds (besides the manifest)."""
    return IndexPaths.from_manifest(manifest).names()


def _content_checker(manifest: dict[str, Any], index_dir: Path) -> Callable[[str], None]:
    n = int((manifest.get("counts") or {}).get("pairs", 0))
    dim = int((manifest.get("encoder") or {}).get("dim", 0))
    shard_size = int(manifest["shard_size"])
    paths = IndexPaths.from_manifest(manifest)

    def check(name: str) -> None:
        path = index_dir / name
        shard = shard_number(name)
        if shard is not None:
            start, stop = shard_range(shard, n, shard_size)
            read_shard(path, stop - start, dim, name=name)
        elif name == paths.pairs:
            rows = len(PairTable(read_pairs(path), path))
            if rows != n:
                raise DamagedFileError(name, f"holds {rows:,} pairs, the manifest says {n:,}")
        elif name == paths.faiss:
            import faiss

            index = read_faiss_index(path, verify=False)
            if index.ntotal != n or index.d != dim or index.metric_type != faiss.METRIC_INNER_PRODUCT:
                raise DamagedFileError(
                    name,
                    f"holds {index.ntotal:,} vectors of dim {index.d}, the manifest says {n:,} of dim {dim}",
                )
        elif name == paths.word_vectors:
            read_word_vectors(path, int((manifest.get("word_vectors") or {}).get("dim", 0)))

    return check


def _check_file(
    name: str, record: FileRecord | None, index_dir: Path, check: Callable[[str], None]
) -> str | None:
    path = index_dir / name
    if not path.is_file():
        return "is missing"
    if record is not None:
        found = file_record(path)
        if found.bytes != record.bytes:
            return f"is {found.bytes:,} bytes, the manifest says {record.bytes:,}"
        if found.xxh3_128 != record.xxh3_128:
            return "does not match its checksum (its bytes changed since it was written)"
    try:
        check(name)
    except DamagedFileError as exc:
        return exc.problem
    except RelsearchError as exc:
        return f"cannot be read ({exc})"
    return None


def verify_index(index_dir: str | Path, *, record: bool = True) -> VerifyReport:
    """Check every file of the index at ``index_dir`` under its write lock; store the outcome in
    ``verified.json`` (unless ``record=False``).

    Raises ``IndexFormatError`` only if there is no readable manifest, ``IndexLockedError`` if
    another process is writing the index; damaged files are listed in the report, never raised.
    """
    index_dir = Path(index_dir)
    read_manifest_only(index_dir)  # an index at all? (no lock file in a folder that is not one)
    with IndexLock(index_dir, "relsearch verify"):
        report = check_index(index_dir)
        if record:
            record_outcome(index_dir, report)
    return report


def check_index(index_dir: Path) -> VerifyReport:
    """``verify_index`` without the lock (for callers that hold it) and without the record."""
    t0 = time.perf_counter()
    manifest = read_manifest_only(index_dir)
    records = file_records(manifest)
    report = VerifyReport(str(index_dir), checksums=bool(records))
    check = _content_checker(manifest, index_dir)
    for name in dict.fromkeys([*expected_files(manifest), *records]):
        problem = _check_file(name, records.get(name), index_dir, check)
        report.files += 1
        if (index_dir / name).is_file():
            report.bytes += (index_dir / name).stat().st_size
        if problem is not None:
            report.problems.append(FileProblem(name, problem, repair_hint(name, str(index_dir))))
    folders = (index_dir, index_dir / EMBEDDINGS_DIR)
    report.leftovers = sorted(str(p.relative_to(index_dir)) for f in folders for p in f.glob(TEMP_PATTERN))
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


def record_outcome(index_dir: Path, report: VerifyReport) -> None:
    """Store ``report`` in ``verified.json`` for the current manifest."""
    write_verify_record(
        index_dir,
        {
            "verified": now_utc(),
            "ok": report.ok,
            "checksums": report.checksums,
            "files": report.files,
            "bytes": report.bytes,
            "problems": [asdict(p) for p in report.problems],
        },
    )
