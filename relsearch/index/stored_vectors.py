"""``StoredVectors``: an index's embedding shards as float32 unit vectors, by id or shard by shard.

The one reader of ``embeddings/part-*.npy`` (through :mod:`relsearch.storage.shard_files`),
used by queries and by the builder. Shards are opened lazily; the first time a shard is used
it is checked against its record (size and xxh3-128) and for finite values. With
``mmap=True`` a shard stays memory-mapped; otherwise it is read into memory. Rows come back
as float32 and re-normalised, so dot products are cosines without float16 drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from relsearch.errors import DamagedFileError, IndexFormatError
from relsearch.storage.checksums import FileRecord
from relsearch.storage.layout import shard_name
from relsearch.storage.shard_files import read_shard, shard_count, shard_header_ok, shard_range

#: Rows scored per matrix product in :meth:`StoredVectors.top_k` (bounds the float32 copy).
SCORE_CHUNK = 16384


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


class StoredVectors:
    """Random access to stored vectors by id: ``get(ids)``, ``scores(query, ids)``, ``top_k``,
    and ``blocks()`` shard by shard."""

    def __init__(
        self,
        index_dir: Path,
        *,
        n: int,
        dim: int,
        shard_size: int,
        mmap: bool = False,
        records: Mapping[str, FileRecord] | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        if shard_size < 1:
            raise IndexFormatError(f"the manifest of {index_dir} has shard_size {shard_size}; rebuild it")
        self.index_dir = index_dir
        self.n, self.dim, self.shard_size, self.mmap = n, dim, shard_size, mmap
        self.records = dict(records or {})
        n_shards = shard_count(n, shard_size)
        self.names = list(names) if names is not None else [shard_name(k) for k in range(n_shards)]
        if len(self.names) != n_shards:
            raise IndexFormatError(
                f"the manifest of {index_dir} names {len(self.names)} shards, expected {n_shards}"
            )
        self._shards: list[np.ndarray | None] = [None] * n_shards
        for k in range(n_shards):
            if self.names[k] not in self.records:  # without a record: the header at least
                self._check_header(k)

    def _rows(self, k: int) -> int:
        start, stop = shard_range(k, self.n, self.shard_size)
        return stop - start

    def _check_header(self, k: int) -> None:
        path = self.index_dir / self.names[k]
        if not path.is_file():
            raise DamagedFileError(self.names[k], "is missing", str(self.index_dir))
        if not shard_header_ok(path, self._rows(k), self.dim):
            raise DamagedFileError(
                self.names[k], f"is not a float16 ({self._rows(k)}, {self.dim}) array", str(self.index_dir)
            )

    def _shard(self, k: int) -> np.ndarray:
        shard = self._shards[k]
        if shard is None:
            try:
                name = self.names[k]
                shard = read_shard(
                    self.index_dir / name, self._rows(k), self.dim, self.records.get(name), name=name
                )
            except DamagedFileError as exc:
                raise exc.at(self.index_dir) from None
            if not self.mmap:
                shard = np.array(shard)
            self._shards[k] = shard
        return shard

    def raw(self, k: int) -> np.ndarray:
        """Shard ``k`` as stored: float16, not re-normalised (an update copies rows bit for bit)."""
        return self._shard(k)

    def blocks(self) -> Iterator[np.ndarray]:
        """Float32 unit vectors shard by shard, in id order (one shard in memory at a time)."""
        for k in range(len(self._shards)):
            block = _normalise(np.asarray(self._shard(k), dtype=np.float32))
            if not self.mmap:
                self._shards[k] = None
            yield block

    def get(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """Unit-norm float32 rows ``(len(ids), dim)`` in the order of ``ids``."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.n):
            raise IndexError(f"id out of range 0..{self.n - 1}")
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        shards = ids // self.shard_size
        for k in np.unique(shards):
            where = np.flatnonzero(shards == k)
            out[where] = self._shard(int(k))[ids[where] - k * self.shard_size]
        return _normalise(out)

    take = get

    def scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Cosine of the unit vector ``query`` with each id's vector (chunked)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty(len(ids), dtype=np.float32)
        for start in range(0, len(ids), SCORE_CHUNK):
            chunk = ids[start : start + SCORE_CHUNK]
            out[start : start + len(chunk)] = self.get(chunk) @ query
        return out

    def top_k(self, query: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact search among ``ids``: the best ``k`` ids and their cosines, best first."""
        ids = np.asarray(ids, dtype=np.int64)
        scores = self.scores(query, ids)
        if len(ids) > k:
            keep = np.argpartition(-scores, k - 1)[:k]
            ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]
