"""Sharded encoding with a checkpoint: atomic float16 shards that a re-run resumes from.

Shard ``k`` holds the normalised float16 vectors of pair ids ``[k * shard_size, (k + 1) *
shard_size)``. ``encode_shard`` (encode one slice, write one file) is the unit of work: the
local loop here runs it shard by shard, and a distributed engine can run it in its workers.
A shard file that exists is complete (temp file + ``os.replace``), so a build stopped at any
moment resumes from the files on disk; ``checkpoint.json`` records what they were made from.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from relsearch.errors import IndexFormatError
from relsearch.index.format import CHECKPOINT_FILE, EMBEDDINGS_DIR, shard_path, write_json_atomic

#: Test hook: ``N`` raises ``SimulatedCrash`` right after shard N is written; ``N:kill`` SIGKILLs.
CRASH_ENV = "RELSEARCH_CRASH_AFTER_SHARD"
CHECKPOINT_FORMAT = "relsearch-checkpoint"


class SimulatedCrash(RuntimeError):
    """Raised by the ``RELSEARCH_CRASH_AFTER_SHARD`` test hook."""


class PairEncoder(Protocol):
    """What the builder needs from an encoder (``RelationEncoder`` or a test double)."""

    @property
    def dim(self) -> int: ...
    @property
    def fingerprint(self) -> str: ...
    def describe(self) -> dict[str, Any]: ...
    def encode(self, pairs: Any, *, batch_size: int | None = None) -> np.ndarray: ...
    def encode_words(self, words: Sequence[str], *, batch_size: int | None = None) -> np.ndarray: ...


def shard_count(n: int, shard_size: int) -> int:
    return -(-n // shard_size)


def shard_range(shard: int, n: int, shard_size: int) -> tuple[int, int]:
    start = shard * shard_size
    return start, min(n, start + shard_size)


def write_shard(path: Path, vectors: np.ndarray) -> None:
    """Save unit vectors as float16 ``.npy``: temp file, fsync, ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(vectors, dtype=np.float16))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def encode_shard(
    encoder: PairEncoder,
    heads: Sequence[str],
    tails: Sequence[str],
    path: Path,
    *,
    batch_size: int,
    advance: Any = None,
) -> int:
    """Encode one slice of pairs and write it as shard ``path``; return the number of rows.

    Pairs are encoded in fixed chunks of ``8 * batch_size`` (so ``advance`` can report progress
    without changing the batches, and hence the vectors).
    """
    chunk = 8 * batch_size
    parts = []
    for start in range(0, len(heads), chunk):
        pairs = list(zip(heads[start : start + chunk], tails[start : start + chunk], strict=True))
        parts.append(encoder.encode(pairs, batch_size=batch_size))
        if advance is not None:
            advance(len(pairs))
    vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)
    write_shard(path, vectors)
    return len(vectors)


def shard_is_complete(path: Path, rows: int, dim: int) -> bool:
    """True if ``path`` is a readable float16 ``(rows, dim)`` array."""
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return array.dtype == np.float16 and array.shape == (rows, dim)


def _maybe_crash(shard: int) -> None:
    value = os.environ.get(CRASH_ENV, "")
    number, _, mode = value.partition(":")
    if number.strip().isdigit() and int(number) == shard:
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise SimulatedCrash(f"simulated crash after shard {shard} ({CRASH_ENV}={value})")


@dataclass(frozen=True)
class Checkpoint:
    """What a partial build was made from; a resume must match it."""

    encoder: dict[str, Any]
    input: dict[str, Any]
    pairs: int
    shard_size: int
    dim: int
    created: str = ""

    @staticmethod
    def path(out_dir: Path) -> Path:
        return out_dir / EMBEDDINGS_DIR / CHECKPOINT_FILE

    def write(self, out_dir: Path) -> None:
        created = self.created or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        payload = {"format": CHECKPOINT_FORMAT, "format_version": 1, **asdict(self), "created": created}
        write_json_atomic(self.path(out_dir), payload)

    @classmethod
    def read(cls, out_dir: Path) -> Checkpoint:
        path = cls.path(out_dir)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("not a relsearch checkpoint")
            return cls(
                raw["encoder"], raw["input"], raw["pairs"], raw["shard_size"], raw["dim"], raw["created"]
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(
                f"cannot read the build checkpoint {path} ({exc}); pass --overwrite to start over"
            ) from None

    def mismatch(self, other: Checkpoint) -> str | None:
        """Why a build described by ``other`` cannot resume this one, or None."""
        if self.input.get("fingerprint") != other.input.get("fingerprint"):
            return (
                f"it was started from different input ({_describe_input(self.input)}; this run: "
                f"{_describe_input(other.input)})"
            )
        if self.encoder.get("fingerprint") != other.encoder.get("fingerprint"):
            return (
                f"it was started with another model ({self.encoder.get('model')}, fingerprint "
                f"{str(self.encoder.get('fingerprint'))[:12]}; this run: {other.encoder.get('model')}, "
                f"{str(other.encoder.get('fingerprint'))[:12]}); re-run with that model to resume"
            )
        if self.shard_size != other.shard_size:
            return f"it was started with --shard-size {self.shard_size} (this run: {other.shard_size})"
        return None


def _describe_input(info: dict[str, Any]) -> str:
    text = f"{info.get('kind')} {info.get('source')}"
    if info.get("kind") == "vocab":
        text += f", k={info.get('k')}" if not info.get("all_pairs") else ", all pairs"
    return f"{text}, fingerprint {str(info.get('fingerprint'))[:12]}"


def remove_temp_files(out_dir: Path) -> None:
    """Delete temp files a killed process left behind (never complete shards)."""
    for tmp in (out_dir / EMBEDDINGS_DIR).glob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)


def complete_shards(out_dir: Path, n: int, shard_size: int, dim: int) -> list[int]:
    """Shard numbers whose files are complete."""
    done = []
    for k in range(shard_count(n, shard_size)):
        start, stop = shard_range(k, n, shard_size)
        if shard_is_complete(shard_path(out_dir, k), stop - start, dim):
            done.append(k)
    return done


def encode_missing_shards(
    out_dir: Path,
    encoder: PairEncoder,
    heads: Sequence[str],
    tails: Sequence[str],
    *,
    shard_size: int,
    batch_size: int,
    done: Sequence[int],
    progress: Any,
) -> int:
    """Encode every shard not in ``done``, in order; return how many were encoded."""
    n = len(heads)
    finished = set(done)
    encoded = 0
    for k in range(shard_count(n, shard_size)):
        if k in finished:
            continue
        start, stop = shard_range(k, n, shard_size)
        encode_shard(
            encoder,
            heads[start:stop],
            tails[start:stop],
            shard_path(out_dir, k),
            batch_size=batch_size,
            advance=progress.advance,
        )
        encoded += 1
        progress.shard_done()
        _maybe_crash(k)
    return encoded


class ShardReader:
    """Reads the shards of a build back as float32 unit vectors, one shard in memory at a time."""

    def __init__(self, out_dir: Path, n: int, shard_size: int, dim: int) -> None:
        self.out_dir, self.n, self.shard_size, self.dim = out_dir, n, shard_size, dim

    def _load(self, shard: int) -> np.ndarray:
        return np.load(shard_path(self.out_dir, shard), mmap_mode="r")

    @staticmethod
    def _float32(rows: np.ndarray) -> np.ndarray:
        out = np.asarray(rows, dtype=np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def blocks(self) -> Iterator[np.ndarray]:
        """Float32 unit vectors shard by shard, in id order."""
        for k in range(shard_count(self.n, self.shard_size)):
            yield self._float32(self._load(k))

    def take(self, ids: np.ndarray) -> np.ndarray:
        """Float32 unit vectors of ``ids`` (in the given order)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        shards = ids // self.shard_size
        for k in np.unique(shards):
            where = np.nonzero(shards == k)[0]
            out[where] = self._float32(self._load(int(k))[ids[where] - k * self.shard_size])
        return out
