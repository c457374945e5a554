"""Filtered top-k search: FAISS finds candidates, stored vectors give the exact cosines.

Per query, the cheapest correct route:

- a small include set (``--head``/``--tail``): exact scores over just those ids, no FAISS at all
  (an IVF selector would only see the probed lists and could miss them);
- no include set and few exclusions (the usual overlap filter): one batched FAISS search for
  ``k + |exclude|`` candidates, then drop the excluded ones, so ``k`` results remain;
- otherwise a FAISS search with an ``IDSelector`` (widening ``nprobe``/``efSearch`` until enough
  results pass), or, for index types that take no selector, over-fetching until enough pass.

Candidates are then re-scored from the stored float16 vectors, so every score is a cosine
whatever the index's codes (PQ and SQ codes only approximate it; for those ``k * REFINE_FACTOR``
candidates are re-ranked, as faiss's ``IndexRefine`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import faiss
import numpy as np

from relsearch.index.filters import IdFilter, can_widen, search_parameters
from relsearch.index.stored_vectors import StoredVectors

#: Include sets up to this size are scored exactly from stored vectors instead of through FAISS.
EXACT_LIMIT = 65536
#: Exclusion sets up to this size are handled by over-fetching in the batched FAISS search.
OVERFETCH_LIMIT = 1024
#: Lossy codes: re-rank this many times ``k`` candidates with exact scores.
REFINE_FACTOR = 4

Result = tuple[np.ndarray, np.ndarray]


def has_exact_codes(index: Any) -> bool:
    """Whether the index stores full vectors (Flat, IVF-Flat, HNSW-Flat), so its ranking is exact."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIDMap):
        return has_exact_codes(index.index)
    return isinstance(index, faiss.IndexFlat | faiss.IndexIVFFlat | faiss.IndexHNSWFlat)


class FilteredSearch:
    """``search(queries, k, filters)``: per query, the ``k`` best allowed ids and their cosines."""

    def __init__(self, index: Any, stored: StoredVectors) -> None:
        self.index = index
        self.stored = stored
        self.ntotal = int(index.ntotal)
        self.refine = 1 if has_exact_codes(index) else REFINE_FACTOR

    def search(self, queries: np.ndarray, k: int, filters: Sequence[IdFilter]) -> list[Result]:
        """``queries`` are unit float32 rows ``(q, dim)``; one filter per query."""
        results: list[Result | None] = [None] * len(queries)
        batched: list[int] = []
        for i, flt in enumerate(filters):
            if flt.include is not None and len(flt.include) <= EXACT_LIMIT:
                results[i] = self.stored.top_k(queries[i], flt.include, k)
            elif flt.include is None and flt.n_excluded <= OVERFETCH_LIMIT:
                batched.append(i)
        want = k * self.refine
        if batched:
            fetch = min(self.ntotal, want + max(filters[i].n_excluded for i in batched))
            _, ids = self.index.search(queries[batched], fetch)
            for i, row in zip(batched, ids, strict=True):
                candidates = row[filters[i].allows(row)]
                if len(candidates) >= min(want, filters[i].allowed_count(self.ntotal)):
                    results[i] = self._rescore(queries[i], candidates[:want], k)
        for i, result in enumerate(results):
            if result is None:
                candidates = self._candidates(queries[i], want, filters[i])
                results[i] = self._rescore(queries[i], candidates, k)
        return results  # type: ignore[return-value]

    def _rescore(self, query: np.ndarray, candidates: np.ndarray, k: int) -> Result:
        return self.stored.top_k(query, candidates, k)

    def _candidates(self, query: np.ndarray, want: int, flt: IdFilter) -> np.ndarray:
        """Up to ``want`` allowed ids for one query: selector search, else over-fetch and filter."""
        need = min(want, flt.allowed_count(self.ntotal))
        if need <= 0:
            return np.zeros(0, dtype=np.int64)
        sel = flt.selector(self.ntotal)
        widen = 1
        params = search_parameters(self.index, sel, widen)
        if params is not None:
            try:
                while True:
                    _, ids = self.index.search(query[None], min(want, self.ntotal), params=params)
                    found = ids[0][flt.allows(ids[0])]
                    if len(found) >= need or not can_widen(self.index, widen * 2):
                        return found
                    widen *= 2
                    params = search_parameters(self.index, sel, widen)
            except RuntimeError:  # this index type refuses search parameters
                pass
        fetch = min(self.ntotal, max(2 * want, want + flt.n_excluded))
        while True:
            _, ids = self.index.search(query[None], fetch)
            found = ids[0][flt.allows(ids[0])]
            if len(found) >= need or fetch >= self.ntotal:
                return found[:want]
            fetch = min(self.ntotal, fetch * 4)
