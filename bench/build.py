"""Build-time and peak-memory benchmark of ``build_index`` on synthetic pairs (no model).

    python bench/build.py --pairs 1000000 --dim 768 [--memory-budget 8G] [--out DIR]

Pairs ``w{i}:w{j}`` get the seeded fake encoder's vectors (tests/fake_encoder.py: from a hash
of the pair, around 256 random centres by default), so encoding costs almost nothing and the
numbers are the builder's own: shards, Parquet, FAISS training, adding, recall. Prints one
JSON object: pair count, FAISS factory, recall@10, durations, the peak RSS of this process,
and for comparison the size of all vectors as one float32 matrix. A build with a real model
adds the model's memory.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's packages and the fake encoder


def synthetic_pairs(n: int) -> list[tuple[str, str]]:
    """The first ``n`` ordered pairs of distinct words over ``ceil(sqrt(n)) + 1`` words."""
    m = math.isqrt(n) + 2
    pairs = []
    for i in range(m):
        for j in range(m):
            if i != j:
                pairs.append((f"w{i}", f"w{j}"))
                if len(pairs) == n:
                    return pairs
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--memory-budget", default="8G")
    parser.add_argument("--index-key", default=None)
    parser.add_argument("--shard-size", type=int, default=4096)
    parser.add_argument("--clusters", type=int, default=256, help="0: uniform random vectors")
    parser.add_argument("--out", default=None, help="index directory (default: a temp dir, removed)")
    args = parser.parse_args()

    from fake_encoder import FakeEncoder

    from index_builder.build import build_index

    with tempfile.TemporaryDirectory(prefix="relsearch-bench-") as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "idx"
        t0 = time.perf_counter()
        report = build_index(
            out,
            pairs=synthetic_pairs(args.pairs),
            encoder=FakeEncoder(dim=args.dim, clusters=args.clusters),
            shard_size=args.shard_size,
            memory_budget=args.memory_budget,
            index_key=args.index_key,
            overwrite=True,
        )
        wall = time.perf_counter() - t0
        disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "pairs": report.pairs,
                "dim": args.dim,
                "factory": report.faiss["factory"],
                "search_params": report.faiss["search_params"],
                "recall_at_10": report.faiss["recall_at_10"],
                "durations_s": report.durations,
                "faiss_s": report.faiss["seconds"],
                "wall_s": round(wall, 1),
                "peak_rss_gib": round(peak / 2**30, 3),
                "all_vectors_float32_gib": round(report.pairs * args.dim * 4 / 2**30, 3),
                "index_plan_bytes_gib": round(report.index_plan["index_bytes"] / 2**30, 3),
                "disk_gib": round(disk / 2**30, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
