"""FAISS index types at scale: build time, memory, recall@10 against exact search, query latency.

Synthetic vectors (NOT real relation vectors): ``--pairs`` unit vectors in ``--dim`` dimensions,
drawn around ``--clusters`` random centres with Gaussian noise (as in bench/query.py), kept as
float16 like the builder's shards. Each index is built with the builder's own code
(``index_builder.faiss_build.build_faiss_index``: training sample, shard-by-shard adds, nprobe
tuned for recall@10 >= 0.95 on held-out indexed vectors) for the factory the builder chooses
under each ``--budgets`` entry, plus ``--extra`` factories (default Flat, the exact baseline;
e.g. HNSW32, which the builder never chooses on its own). Then, for new query vectors from the
same distribution (not in the index): recall@10 against exact search and single-query latency
p50/p99.

    python bench/search.py                         # 1M x 768, budgets 8G and 512M, + Flat
    python bench/search.py --pairs 100000 --queries 200   # a quick check

A human table first, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class ArrayReader:
    """The reader interface ``build_faiss_index`` takes (``StoredVectors``: ``n``, ``dim``, ``take``,
    ``blocks``) over one float16 array in memory."""

    def __init__(self, vectors: np.ndarray, block: int = 65536) -> None:
        self.vectors, self.block = vectors, block
        self.n, self.dim = vectors.shape

    @staticmethod
    def _float32(rows: np.ndarray) -> np.ndarray:
        out = np.asarray(rows, dtype=np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def blocks(self) -> Iterator[np.ndarray]:
        for start in range(0, self.n, self.block):
            yield self._float32(self.vectors[start : start + self.block])

    def take(self, ids: np.ndarray) -> np.ndarray:
        return self._float32(self.vectors[np.asarray(ids, dtype=np.int64)])


def synthetic(n: int, dim: int, clusters: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float16 unit vectors and their float32 centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float16)
    for start in range(0, n, 65536):
        m = min(65536, n - start)
        block = centres[rng.integers(0, clusters, m)] + noise * rng.standard_normal(
            (m, dim), dtype=np.float32
        )
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, centres


def queries_like(centres: np.ndarray, count: int, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    block = centres[rng.integers(0, len(centres), count)]
    block = block + noise * rng.standard_normal(block.shape, dtype=np.float32)
    return (block / np.linalg.norm(block, axis=1, keepdims=True)).astype(np.float32)


def rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def bench_one(plan, reader: ArrayReader, xq: np.ndarray, truth: np.ndarray, args) -> dict:  # type: ignore[no-untyped-def]
    import faiss

    from index_builder.faiss_build import build_faiss_index, recall_at_k

    before = rss_bytes()
    t0 = time.perf_counter()
    result = build_faiss_index(reader, plan)
    build_s = time.perf_counter() - t0
    index = result.index
    held = rss_bytes() - before
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.faiss"
        faiss.write_index(index, str(path))
        size = path.stat().st_size
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None and "nprobe" in result.search_params:
        ivf.nprobe = result.search_params["nprobe"]
    recall = recall_at_k(index.search(xq, 10)[1], truth)
    lat = []
    for i in range(min(len(xq), args.latency_queries)):
        start = time.perf_counter()
        index.search(xq[i : i + 1], 10)
        lat.append(time.perf_counter() - start)
    ms = np.array(lat) * 1000
    batch_start = time.perf_counter()
    index.search(xq, 10)
    batch_qps = len(xq) / (time.perf_counter() - batch_start)
    del index, result.index
    return {
        "factory": plan.factory,
        "chosen_for": plan.reason,
        "search_params": result.search_params,
        "build_s": round(build_s, 1),
        "seconds": {k: round(v, 1) for k, v in result.seconds.items()},
        "index_file_mib": round(size / 2**20, 1),
        "rss_held_mib": round(held / 2**20, 1),
        "recall_at_10_builder": result.recall_at_10,
        "recall_at_10_new_queries": round(recall, 4),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "batch_queries_per_s": round(batch_qps, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--clusters", type=int, default=1024)
    parser.add_argument("--noise", type=float, default=1.5)
    parser.add_argument("--budgets", nargs="*", default=["8G", "512M"], help="memory budgets to plan for")
    parser.add_argument("--extra", nargs="*", default=["Flat"], help="more factories, e.g. Flat HNSW32")
    parser.add_argument("--queries", type=int, default=1000, help="new query vectors for recall")
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    from index_builder.index_choice import parse_memory, plan_index

    faiss.omp_set_num_threads(args.threads)
    t0 = time.perf_counter()
    vectors, centres = synthetic(args.pairs, args.dim, args.clusters, args.noise, args.seed)
    reader = ArrayReader(vectors)
    xq = queries_like(centres, args.queries, args.noise, args.seed)
    exact = faiss.IndexFlatIP(args.dim)
    truth_scores = np.full((len(xq), 10), -np.inf, dtype=np.float32)
    truth = np.full((len(xq), 10), -1, dtype=np.int64)
    offset = 0
    for block in reader.blocks():  # exact top-10 without a second full float32 copy
        exact.reset()
        exact.add(block)
        s, i = exact.search(xq, 10)
        s_all = np.concatenate([truth_scores, s], axis=1)
        i_all = np.concatenate([truth, i + offset], axis=1)
        keep = np.argsort(-s_all, axis=1)[:, :10]
        truth_scores, truth = np.take_along_axis(s_all, keep, 1), np.take_along_axis(i_all, keep, 1)
        offset += len(block)
    data_s = time.perf_counter() - t0

    plans = {}
    for budget in args.budgets:
        plan = plan_index(args.pairs, args.dim, parse_memory(budget))
        plans.setdefault(plan.factory, plan)
    for factory in args.extra:
        plan = plan_index(args.pairs, args.dim, parse_memory("1T"), index_key=factory)
        plans.setdefault(factory, plan)
    rows = []
    for plan in plans.values():
        print(f"building {plan.factory} ...", file=sys.stderr, flush=True)
        rows.append(bench_one(plan, reader, xq, truth, args))

    print(
        f"{args.pairs:,} synthetic unit vectors, dim {args.dim}, {args.clusters} clusters, "
        f"noise {args.noise}; {len(xq)} new queries; {args.threads} threads"
    )
    head = f"{'factory':<18}{'params':<14}{'build s':>9}{'file MiB':>10}{'RSS MiB':>9}"
    print(head + f"{'recall@10':>11}{'p50 ms':>9}{'p99 ms':>9}{'batch q/s':>11}")
    for r in rows:
        params = ",".join(f"{k}={v}" for k, v in r["search_params"].items()) or "-"
        print(
            f"{r['factory']:<18}{params:<14}{r['build_s']:>9.1f}{r['index_file_mib']:>10.0f}"
            f"{r['rss_held_mib']:>9.0f}{r['recall_at_10_new_queries']:>11.4f}{r['p50_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['batch_queries_per_s']:>11.0f}"
        )
    print(
        json.dumps(
            {
                "vectors": "synthetic clustered unit vectors",
                "pairs": args.pairs,
                "dim": args.dim,
                "clusters": args.clusters,
                "noise": args.noise,
                "queries": len(xq),
                "threads": args.threads,
                "data_and_exact_truth_s": round(data_s, 1),
                "load_average": os.getloadavg(),
                "indexes": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
