"""Sharded encoding with a checkpoint: atomic float16 shards that a re-run resumes from.

Shard ``k`` holds the normalised float16 vectors of pair ids ``[k * shard_size, (k + 1) *
shard_size)`` (the file format: :mod:`relsearch.storage.shard_files`). ``encode_shard``
(encode one slice, write one file) is the unit of work: the local loop here runs it shard by
shard, and a distributed engine can run it in its workers. Each finished shard's size and
checksum go into ``checkpoint.json``; a resume keeps only the shards that match their record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from relsearch.errors import DamagedFileError, RelsearchError
from relsearch.storage.checkpoint import Checkpoint
from relsearch.storage.checksums import FileRecord
from relsearch.storage.layout import shard_name, shard_path
from relsearch.storage.shard_files import (
    NonFiniteVectorError,
    read_shard,
    shard_count,
    shard_range,
    write_shard,
)

log = logging.getLogger("relsearch")

#: Called with a shard's number once it is written and recorded (tests stop a build here).
ShardCallback = Callable[[int], None]


class PairEncoder(Protocol):
    """What the builder needs from an encoder (``RelationEncoder`` or a test double)."""

    @property
    def dim(self) -> int: ...
    @property
    def fingerprint(self) -> str: ...
    def describe(self) -> dict[str, Any]: ...
    def encode(self, pairs: Any, *, batch_size: int | None = None) -> np.ndarray: ...
    def encode_words(self, words: Sequence[str], *, batch_size: int | None = None) -> np.ndarray: ...


def encode_shard(
    encoder: PairEncoder,
    heads: Sequence[str],
    tails: Sequence[str],
    path: Path,
    *,
    batch_size: int,
    advance: Any = None,
) -> FileRecord:
    """Encode one slice of pairs and write it as shard ``path``; return the file's record.

    Pairs are encoded in fixed chunks of ``8 * batch_size`` (so ``advance`` can report progress
    without changing the batches, and hence the vectors). A non-finite vector is refused.
    """
    chunk = 8 * batch_size
    parts = []
    for start in range(0, len(heads), chunk):
        pairs = list(zip(heads[start : start + chunk], tails[start : start + chunk], strict=True))
        parts.append(encoder.encode(pairs, batch_size=batch_size))
        if advance is not None:
            advance(len(pairs))
    vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)
    try:
        return write_shard(path, vectors)
    except NonFiniteVectorError as exc:
        raise RelsearchError(
            "the encoder gave a non-finite vector (NaN or inf) for the pair "
            f"{heads[exc.row]}:{tails[exc.row]}; nothing was stored for it. Check the model "
            "(a float16 overflow?) or leave the pair out"
        ) from None


def kept_shards(
    out_dir: Path, checkpoint: Checkpoint, *, first_shard: int = 0, generation: int = 0
) -> list[int]:
    """Shard numbers (from ``first_shard`` on) whose files match their checkpoint record, re-checked now.

    A damaged shard (or one without a record: its writer was killed before recording it) is
    deleted, so that it is encoded again.
    """
    n, size, dim = checkpoint.pairs, checkpoint.shard_size, checkpoint.dim
    done = []
    for k in range(first_shard, shard_count(n, size)):
        name = shard_name(k, generation)
        path = out_dir / name
        if not path.exists():
            continue
        record = checkpoint.files.get(name)
        start, stop = shard_range(k, n, size)
        try:
            if record is None:
                raise DamagedFileError(name, "has no record in the checkpoint")
            read_shard(path, stop - start, dim, record, name=name)
        except DamagedFileError as exc:
            log.warning("relsearch: %s %s; encoding it again", exc.file, exc.problem)
            path.unlink(missing_ok=True)
            checkpoint.files.pop(name, None)
            continue
        done.append(k)
    return done


def encode_missing_shards(
    out_dir: Path,
    encoder: PairEncoder,
    heads: Sequence[str],
    tails: Sequence[str],
    *,
    checkpoint: Checkpoint,
    batch_size: int,
    done: Sequence[int],
    progress: Any,
    first_shard: int = 0,
    generation: int = 0,
    after_shard: ShardCallback | None = None,
) -> int:
    """Encode every shard not in ``done``, in order, recording each; return how many were encoded.

    ``heads``/``tails`` hold the pairs from shard ``first_shard`` on (an update writes only
    its new shards, as files of its ``generation``).
    """
    size = checkpoint.shard_size
    finished = set(done)
    encoded = 0
    offset = first_shard * size
    for k in range(first_shard, shard_count(checkpoint.pairs, size)):
        if k in finished:
            continue
        start, stop = shard_range(k, checkpoint.pairs, size)
        record = encode_shard(
            encoder,
            heads[start - offset : stop - offset],
            tails[start - offset : stop - offset],
            shard_path(out_dir, k, generation),
            batch_size=batch_size,
            advance=progress.advance,
        )
        checkpoint.record(out_dir, shard_name(k, generation), record)
        encoded += 1
        progress.shard_done()
        if after_shard is not None:
            after_shard(k)
    return encoded
