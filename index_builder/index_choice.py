"""Choosing the FAISS index from the pair count and a memory budget, and estimating memory.

Rules (vectors are unit-normalised, the metric is inner product):

- at most ``FLAT_MAX_PAIRS`` pairs whose float32 vectors fit the budget: ``Flat`` (exact);
- otherwise an inverted file with ``nlist`` = the power of two nearest ``2 * sqrt(n)``
  (at least 40 training vectors per list), with 8-bit scalar codes (``IVF{nlist},SQ8``,
  one byte per dimension) when they fit the budget, else product-quantised codes
  (``IVF{nlist},PQ{m}``, ``m`` bytes per vector, the largest ``m`` that fits);
- too few pairs for 16 lists: the same codes without the inverted file (``SQ8`` / ``PQ{m}``).

The budget is the RAM the index takes while it is built and searched; a build also holds the
model, one shard and the training sample (``estimate_build_memory``).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from index_builder.defaults import DEFAULT_MEMORY_BUDGET
from relsearch.errors import RelsearchError

FLAT_MAX_PAIRS = 200_000
MAX_TRAIN = 100_000
ID_BYTES = 8  # an inverted list stores an int64 id beside each code
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


@dataclass(frozen=True)
class IndexPlan:
    """A factory string with its expected size and training needs."""

    factory: str
    index_bytes: int
    nlist: int | None
    train_size: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_memory(value: str | int | None) -> int:
    """Bytes from ``"8G"``, ``"512M"``, ``"1.5GB"``, ``"2GiB"`` or an int (None: the default)."""
    if value is None:
        value = DEFAULT_MEMORY_BUDGET
    if isinstance(value, int):
        size = value
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:I?B)?\s*", str(value), re.IGNORECASE)
        if not match:
            raise RelsearchError(
                f"cannot read the memory budget {value!r}; write a size such as 512M, 8G or 1.5G"
            )
        size = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if size <= 0:
        raise RelsearchError(f"the memory budget must be positive, got {value!r}")
    return size


def format_bytes(size: float) -> str:
    """``1536 -> '1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def choose_nlist(n: int) -> int | None:
    """Inverted lists for ``n`` vectors, or None when there are too few for 16 lists."""
    if n < 16 * 40:
        return None
    nlist = 2 ** round(math.log2(2 * math.sqrt(n)))
    nlist = min(nlist, 2 ** int(math.log2(n // 40)))
    return max(nlist, 16)


def _make_index(factory: str, dim: int) -> Any:
    import faiss

    try:
        return faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1]
        raise RelsearchError(f"invalid --index-key {factory!r}: {reason}") from None


def index_bytes(factory: str, n: int, dim: int) -> tuple[int, int | None]:
    """Approximate RAM of ``factory`` holding ``n`` vectors, and its number of lists (if IVF)."""
    import faiss

    index = _make_index(factory, dim)
    ivf = faiss.try_extract_index_ivf(index)
    try:
        per_vector = float(index.sa_code_size())
    except RuntimeError:  # graph indexes (HNSW): vectors plus about 2*M links of 4 bytes
        per_vector = dim * 4 + 64 * 4
    fixed = 0
    if ivf is not None:
        per_vector += ID_BYTES
        fixed = ivf.nlist * dim * 4
    return int(per_vector * n + fixed), (int(ivf.nlist) if ivf is not None else None)


def _train_size(n: int, nlist: int | None, needs_training: bool, pq: bool) -> int:
    if not needs_training:
        return 0
    want = max(40 * (nlist or 1), 40 * 256 if pq else 1_000)
    return min(n, want, MAX_TRAIN)


def plan_index(n: int, dim: int, budget: int, index_key: str | None = None) -> IndexPlan:
    """The index to build for ``n`` vectors of ``dim`` under ``budget`` bytes (see module doc)."""
    if index_key:
        if "IDMap" in index_key:
            raise RelsearchError(
                f"--index-key {index_key!r}: IDMap is not supported (FAISS ids are the Parquet row ids)"
            )
        size, nlist = index_bytes(index_key, n, dim)
        trained = _make_index(index_key, dim).is_trained
        return IndexPlan(
            index_key, size, nlist, _train_size(n, nlist, not trained, "PQ" in index_key), "forced"
        )
    flat = n * dim * 4
    if n <= FLAT_MAX_PAIRS and flat <= budget:
        return IndexPlan("Flat", flat, None, 0, f"{n:,} pairs: exact search fits the budget")
    nlist = choose_nlist(n)
    prefix = f"IVF{nlist}," if nlist else ""
    why = "too many pairs for exact search" if n > FLAT_MAX_PAIRS else "exact search exceeds the budget"
    sq8 = f"{prefix}SQ8"
    size, _ = index_bytes(sq8, n, dim)
    if size <= budget:
        return IndexPlan(sq8, size, nlist, _train_size(n, nlist, True, False), f"{why}; SQ8 codes fit")
    for m in sorted((m for m in range(1, dim // 2 + 1) if dim % m == 0), reverse=True):
        factory = f"{prefix}PQ{m}"
        size, _ = index_bytes(factory, n, dim)
        if size <= budget:
            return IndexPlan(
                factory, size, nlist, _train_size(n, nlist, True, True), f"{why}; SQ8 exceeds the budget"
            )
    smallest, _ = index_bytes(f"{prefix}PQ1", n, dim)
    raise RelsearchError(
        f"no index of {n:,} vectors fits the memory budget of {format_bytes(budget)} "
        f"(the smallest, {prefix}PQ1, needs {format_bytes(smallest)}); raise --memory-budget"
    )


def estimate_build_memory(plan: IndexPlan, dim: int, shard_size: int, base_rss: int) -> int:
    """Peak RSS of a build: what the process holds now (model) + index + training sample + shards."""
    shard = shard_size * dim * (4 + 4 + 2)  # float32 vectors, a normalised copy, the float16 shard
    train = plan.train_size * dim * 4
    return base_rss + plan.index_bytes + train + shard
