"""Which ids a search may return, and the FAISS selectors that enforce it inside the search.

A filter is an optional ``include`` set (head/tail filters) minus an ``exclude`` set (pairs that
share a word with the query). FAISS applies it during the search through ``SearchParameters(sel=)``
for the index types that take one (Flat, IVF*, HNSW, and those inside a pre-transform such as OPQ);
:func:`search_parameters` returns None for the others and the caller over-fetches and filters.
With IVF and HNSW a selector only sees the probed lists / visited nodes, so ``widen`` raises
``nprobe`` / ``efSearch`` when a restrictive filter leaves too few results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

#: Below this share of the index an include set is a hash set (IDSelectorBatch), above it a bitmap.
BITMAP_SHARE = 1 / 64


@dataclass(frozen=True)
class IdFilter:
    """Allowed ids: ``include`` (sorted unique, None = every id) minus ``exclude`` (sorted unique)."""

    include: np.ndarray | None = None
    exclude: np.ndarray | None = None

    @classmethod
    def make(cls, include: np.ndarray | None = None, exclude: np.ndarray | None = None) -> IdFilter:
        """Normalise: sorted unique int64 arrays; an exclusion inside an include set is applied at once."""
        inc = None if include is None else np.unique(np.asarray(include, dtype=np.int64))
        exc = None if exclude is None or len(exclude) == 0 else np.unique(np.asarray(exclude, dtype=np.int64))
        if inc is not None and exc is not None:
            inc, exc = np.setdiff1d(inc, exc, assume_unique=True), None
        return cls(inc, exc)

    @property
    def n_excluded(self) -> int:
        return 0 if self.exclude is None else len(self.exclude)

    def allowed_count(self, ntotal: int) -> int:
        """How many ids pass the filter."""
        return len(self.include) if self.include is not None else ntotal - self.n_excluded

    def allows(self, ids: np.ndarray) -> np.ndarray:
        """Boolean mask over ``ids``; FAISS's ``-1`` (no result) is never allowed."""
        ids = np.asarray(ids, dtype=np.int64)
        mask = ids >= 0
        if self.include is not None:
            mask &= np.isin(ids, self.include, assume_unique=False)
        if self.exclude is not None:
            mask &= ~np.isin(ids, self.exclude)
        return mask

    def selector(self, ntotal: int) -> Any:
        """A FAISS ``IDSelector`` for this filter, or None if it allows everything."""
        if self.include is not None:
            if len(self.include) >= ntotal * BITMAP_SHARE:
                mask = np.zeros(ntotal, dtype=bool)
                mask[self.include] = True
                bits = np.packbits(mask, bitorder="little")
                sel = faiss.IDSelectorBitmap(ntotal, faiss.swig_ptr(bits))
                sel.referenced_objects = [bits]  # the bitmap must outlive the selector
                return sel
            return faiss.IDSelectorBatch(self.include)
        if self.exclude is not None:
            return faiss.IDSelectorNot(faiss.IDSelectorBatch(self.exclude))
        return None


def search_parameters(index: Any, sel: Any, widen: int = 1) -> Any:
    """``SearchParameters`` carrying ``sel`` and the index's own search settings (times ``widen``).

    Returns None if the index type cannot take a selector.
    """
    index = faiss.downcast_index(index)
    keep: list[Any] = [sel]
    if isinstance(index, faiss.IndexPreTransform):
        inner = search_parameters(index.index, sel, widen)
        if inner is None:
            return None
        params = faiss.SearchParametersPreTransform(index_params=inner)
        keep.append(inner)
    elif isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(sel=sel, nprobe=min(index.nlist, index.nprobe * widen))
    elif isinstance(index, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(sel=sel, efSearch=index.hnsw.efSearch * widen)
    elif isinstance(index, faiss.IndexFlatCodes):
        params = faiss.SearchParameters(sel=sel)  # some (PQ) refuse at search time: caller falls back
    else:
        return None
    params.referenced_objects = keep  # SWIG parameter objects do not keep their selector alive
    return params


def can_widen(index: Any, widen: int) -> bool:
    """Whether ``widen`` times the search effort still searches more than ``widen // 2`` did."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexPreTransform):
        return can_widen(index.index, widen)
    if isinstance(index, faiss.IndexIVF):
        return index.nprobe * widen // 2 < index.nlist
    if isinstance(index, faiss.IndexHNSW):
        return index.hnsw.efSearch * widen // 2 < index.ntotal
    return False
