"""PQ indexes are built without FAISS's polysemous training (never used, and minutes to hours)."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from index_builder.faiss_build import build_faiss_index, skip_polysemous_training
from index_builder.index_choice import plan_index


class _Reader:
    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        self.n, self.dim = vectors.shape

    def blocks(self):
        yield from (self.vectors[i : i + 500] for i in range(0, self.n, 500))

    def take(self, ids):
        return self.vectors[np.asarray(ids)]


def _parts(index):
    index = faiss.downcast_index(index)
    yield index
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        yield faiss.downcast_index(ivf)
    if isinstance(index, faiss.IndexPreTransform):
        yield faiss.downcast_index(index.index)


@pytest.mark.parametrize("factory", ["PQ8", "IVF16,PQ8", "OPQ8,PQ8", "OPQ8,IVF16,PQ8"])
def test_polysemous_training_is_off(factory):
    index = faiss.index_factory(32, factory, faiss.METRIC_INNER_PRODUCT)
    flags = [p.do_polysemous_training for p in _parts(index) if hasattr(p, "do_polysemous_training")]
    assert flags and any(flags)  # FAISS's default, which the builder must undo
    skip_polysemous_training(index)
    assert not any(p.do_polysemous_training for p in _parts(index) if hasattr(p, "do_polysemous_training"))


def test_built_pq_index_skipped_it():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    plan = plan_index(len(x), 32, 3000 * 20, index_key="IVF16,PQ8")
    result = build_faiss_index(_Reader(x), plan)
    assert faiss.downcast_index(faiss.extract_index_ivf(result.index)).do_polysemous_training is False
    assert result.recall_at_10 is not None and result.recall_at_10 > 0.3
