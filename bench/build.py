"""Build-time and peak-memory benchmark of ``build_index``: synthetic pairs (no model) or end to end.

    python bench/build.py --pairs 1000000 --dim 768 [--memory-budget 8G] [--out DIR]
    python bench/build.py --model default --pairs 2000 [--dtype auto] [--project 1000000]

Pairs ``w{i}:w{j}`` get the seeded fake encoder's vectors (tests/fake_encoder.py: from a hash
of the pair, around 256 random centres by default), so encoding costs almost nothing and the
numbers are the builder's own: shards, Parquet, FAISS training, adding, recall. Prints one
JSON object: pair count, FAISS factory, recall@10, durations, the peak RSS of this process,
and for comparison the size of all vectors as one float32 matrix. A build with a real model
adds the model's memory.

With ``--model``, the pairs are real: random ordered pairs of the default vocabulary, encoded by
that model at ``--dtype`` (end to end: model load, encoding, shards, Parquet, FAISS). The JSON
then has end-to-end and encode-only pairs/s, and ``--project N`` adds the encoding time those
rates give for N pairs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this checkout's packages, the fake encoder, and bench/encode.py's pair sampler
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]


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
    parser.add_argument("--model", default=None, help="encode real pairs with this model ('default' ok)")
    parser.add_argument("--dtype", default="auto", help="with --model: the encoder's dtype")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--project", type=int, default=1_000_000, help="with --model: project to N pairs")
    args = parser.parse_args()

    from index_builder.build import build_index

    if args.model:
        from encode import sample_pairs  # bench/encode.py: random pairs of the default vocabulary

        source = {"pairs": sample_pairs(args.pairs), "model": args.model, "dtype": args.dtype}
    else:
        from fake_encoder import FakeEncoder

        source = {
            "pairs": synthetic_pairs(args.pairs),
            "encoder": FakeEncoder(dim=args.dim, clusters=args.clusters),
        }
    with tempfile.TemporaryDirectory(prefix="relsearch-bench-") as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "idx"
        t0 = time.perf_counter()
        report = build_index(
            out,
            **source,
            shard_size=args.shard_size,
            batch_size=args.batch_size,
            memory_budget=args.memory_budget,
            index_key=args.index_key,
            overwrite=True,
        )
        wall = time.perf_counter() - t0
        disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    encode_s = report.durations.get("encode", 0.0)
    dim = report.encoder.get("dim", args.dim)
    extra = {}
    if args.model:
        rate = report.pairs / encode_s if encode_s else None
        extra = {
            "model": report.encoder.get("model"),
            "dtype": report.encoder.get("dtype"),
            "end_to_end_pairs_per_s": round(report.pairs / wall, 2),
            "encode_pairs_per_s": round(rate, 2) if rate else None,
            "projected_pairs": args.project,
            "projected_encode_hours": round(args.project / rate / 3600, 2) if rate else None,
            "load_average": os.getloadavg(),
        }
    print(
        json.dumps(
            {
                "pairs": report.pairs,
                **extra,
                "dim": dim,
                "factory": report.faiss["factory"],
                "search_params": report.faiss["search_params"],
                "recall_at_10": report.faiss["recall_at_10"],
                "durations_s": report.durations,
                "faiss_s": report.faiss["seconds"],
                "wall_s": round(wall, 1),
                "peak_rss_gib": round(peak / 2**30, 3),
                "all_vectors_float32_gib": round(report.pairs * dim * 4 / 2**30, 3),
                "index_plan_bytes_gib": round(report.index_plan["index_bytes"] / 2**30, 3),
                "disk_gib": round(disk / 2**30, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
