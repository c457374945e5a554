"""``StoredVectors``: the index's normalised float16 embedding shards (``embeddings/part-*.npy``).

Shard ``k`` holds ids ``[k * shard_size, (k + 1) * shard_size)``. Shards are opened lazily: with
``mmap=True`` each is memory-mapped (``np.load(mmap_mode="r")``, nothing read until a row is
touched); otherwise a shard is read into memory the first time one of its rows is needed.
Rows come back as float32 and re-normalised, so dot products are cosines without float16 drift.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from relsearch.errors import IndexFormatError
from relsearch.index.format import shard_path

#: Rows scored per matrix product in :meth:`StoredVectors.top_k` (bounds the float32 copy).
SCORE_CHUNK = 16384


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


class StoredVectors:
    """Random access to stored vectors by id: ``get(ids)``, ``scores(query, ids)``, ``top_k``."""

    def __init__(self, index_dir: Path, *, n: int, dim: int, shard_size: int, mmap: bool = False) -> None:
        if shard_size < 1:
            raise IndexFormatError(f"the manifest of {index_dir} has shard_size {shard_size}; rebuild it")
        self.n, self.dim, self.shard_size, self.mmap = n, dim, shard_size, mmap
        n_shards = -(-n // shard_size)
        self._paths = [shard_path(index_dir, k) for k in range(n_shards)]
        self._shards: list[np.ndarray | None] = [None] * n_shards
        for k, path in enumerate(self._paths):
            self._check(k, path)

    def _check(self, k: int, path: Path) -> None:
        """Read the shard's header only: it must exist and have the expected shape and dtype."""
        if not path.is_file():
            raise IndexFormatError(f"{path} is missing; the index is incomplete, rebuild it")
        rows = min(self.shard_size, self.n - k * self.shard_size)
        try:
            header = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"cannot read {path}: {exc}") from exc
        if header.shape != (rows, self.dim) or header.dtype != np.float16:
            raise IndexFormatError(
                f"{path} holds {header.dtype} {header.shape}, expected float16 ({rows}, {self.dim}); "
                "the index is inconsistent, rebuild it"
            )

    def _shard(self, k: int) -> np.ndarray:
        shard = self._shards[k]
        if shard is None:
            shard = np.load(self._paths[k], mmap_mode="r" if self.mmap else None)
            self._shards[k] = shard
        return shard

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
