"""Building the FAISS index from the shards: train on a sample, add shard by shard, measure recall.

Vectors are unit-normalised float32 (upcast from the float16 shards), the metric is inner
product, and vectors are added in id order to a plain index, so FAISS ids equal Parquet row
ids. Recall@10 is measured against exact search on a held-out sample of the collection's own
vectors (not used for training); for inverted files the smallest power-of-two ``nprobe``
reaching ``TARGET_RECALL`` is chosen (at most ``max(16, nlist / 8)``) and recorded with the
recall it reached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index_builder.index_choice import IndexPlan
from relsearch.index.stored_vectors import StoredVectors

TARGET_RECALL = 0.95
RECALL_QUERIES = 1_000
NPROBES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass
class FaissResult:
    """The built index and what was measured while building it."""

    index: Any
    factory: str
    search_params: dict[str, Any]
    recall_at_10: float | None
    recall_queries: int
    train_size: int
    seconds: dict[str, float] = field(default_factory=dict)

    def manifest_block(self, choice: str, index_bytes: int) -> dict[str, Any]:
        """The manifest's ``faiss`` block."""
        return {
            "factory": self.factory,
            "metric": "inner_product",
            "search_params": self.search_params,
            "recall_at_10": self.recall_at_10,
            "recall_queries": self.recall_queries,
            "recall_method": "held-out sample vs exact search" if self.recall_queries else "exact index",
            "train_size": self.train_size,
            "choice": choice,
            "index_bytes": index_bytes,
            "seconds": {name: round(v, 2) for name, v in self.seconds.items()},
        }


def split_sample(n: int, train_size: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint, sorted (train ids, held-out query ids) drawn with a fixed seed."""
    order = np.random.default_rng(seed).permutation(n)
    held_out = np.sort(order[:queries])
    train = np.sort(order[queries : queries + train_size])
    return train, held_out


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each query's true k nearest ids that were found."""
    hits = [
        len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, int((t >= 0).sum()))
        for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits)) if hits else 1.0


def _tune(index: Any, xq: np.ndarray, truth: np.ndarray, k: int) -> tuple[dict[str, Any], float]:
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        return {}, recall_at_k(index.search(xq, k)[1], truth)
    recall = 0.0
    nprobe = 1
    limit = max(16, ivf.nlist // 8)  # scanning more lists than this defeats the inverted file
    for nprobe in [p for p in NPROBES if p <= min(ivf.nlist, limit)]:
        ivf.nprobe = nprobe
        recall = recall_at_k(index.search(xq, k)[1], truth)
        if recall >= TARGET_RECALL:
            break
    return {"nprobe": nprobe}, recall


def skip_polysemous_training(index: Any) -> None:
    """Turn off FAISS's default polysemous training of PQ codes (minutes at PQ64 and up, hours
    at PQ384 on 2 cores); the searches here never use polysemous filtering."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    parts = [index, faiss.downcast_index(ivf) if ivf is not None else None]
    if isinstance(index, faiss.IndexPreTransform):
        parts.append(faiss.downcast_index(index.index))
    for part in parts:
        if part is not None and getattr(part, "do_polysemous_training", False):
            part.do_polysemous_training = False


def build_faiss_index(reader: StoredVectors, plan: IndexPlan, *, seed: int = 0, k: int = 10) -> FaissResult:
    """Train (if needed), add every shard, then measure recall@k on held-out vectors."""
    import faiss
    from faiss.contrib.exhaustive_search import knn_ground_truth

    index = faiss.index_factory(reader.dim, plan.factory, faiss.METRIC_INNER_PRODUCT)
    skip_polysemous_training(index)
    exact = plan.factory == "Flat"
    queries = 0 if exact else min(RECALL_QUERIES, max(1, reader.n // 10))
    train_ids, query_ids = split_sample(reader.n, plan.train_size, queries, seed)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if not index.is_trained:
        if len(train_ids) == 0:
            train_ids = np.arange(reader.n)
        index.train(reader.take(train_ids))
    seconds["train"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for block in reader.blocks():
        index.add(block)
    seconds["add"] = time.perf_counter() - t0
    if exact:
        return FaissResult(index, plan.factory, {}, 1.0, 0, 0, seconds)
    t0 = time.perf_counter()
    xq = reader.take(query_ids)
    k = min(k, reader.n)
    _, truth = knn_ground_truth(xq, reader.blocks(), k, metric_type=faiss.METRIC_INNER_PRODUCT, ngpu=0)
    params, recall = _tune(index, xq, truth, k)
    seconds["recall"] = time.perf_counter() - t0
    return FaissResult(index, plan.factory, params, round(recall, 4), len(query_ids), len(train_ids), seconds)
