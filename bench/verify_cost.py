"""What checking ``index.faiss`` costs at load: the builder's index type at N pairs, hashed and read.

Builds a synthetic ``IVF{nlist},SQ8`` index (the type the builder picks for 1M pairs of dim 768
under the default 8G budget) from clustered unit vectors, writes it with the storage code, then
times, on a warm page cache: ``faiss.read_index``; the xxh3-128 check of the file (what
``RelationIndex.load`` does, over a memory map); SHA-256 and BLAKE2b of the same bytes for comparison; and
``read_faiss_index`` with and without ``verify``.

    python bench/verify_cost.py --pairs 1000000 --dim 768 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from index_builder.index_choice import parse_memory, plan_index
from relsearch.storage.checksums import CHUNK, check_file, file_record
from relsearch.storage.faiss_file import read_faiss_index, write_faiss_index


def best_of(repeats: int, func) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def stdlib_hash(path: Path, name: str) -> None:
    hasher = hashlib.new(name)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            hasher.update(block)


def build(path: Path, n: int, dim: int, seed: int) -> str:
    plan = plan_index(n, dim, parse_memory("8G"), None)
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((256, dim)).astype(np.float32)

    def block(m: int) -> np.ndarray:
        x = centres[rng.integers(0, len(centres), m)] + 0.35 * rng.standard_normal((m, dim), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    index = faiss.index_factory(dim, plan.factory, faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.cp.niter = 2  # what is measured is reading the file, not the quality of the lists
        ivf.cp.min_points_per_centroid = 1
    if not index.is_trained:
        index.train(block(4 * ivf.nlist if ivf is not None else 10_000))
    for start in range(0, n, 65536):
        x = block(min(65536, n - start))
        if ivf is None:
            index.add(x)
            continue
        # Random lists instead of the nearest centroid: the file has the same layout and size,
        # without the n x nlist distance computations (reading it is what is measured).
        lists = rng.integers(0, ivf.nlist, len(x)).astype(np.int64)
        ids = np.arange(start, start + len(x), dtype=np.int64)
        ivf.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(lists))
    write_faiss_index(index, path)
    return plan.factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--keep", type=Path, help="Build the index file here once and reuse it on later runs."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "index.faiss"
        t0 = time.perf_counter()
        if path.exists():
            factory = faiss.read_index(str(path), faiss.IO_FLAG_MMAP).__class__.__name__
        else:
            factory = build(path, args.pairs, args.dim, args.seed)
        built = time.perf_counter() - t0
        record = file_record(path)
        best_of(1, lambda: file_record(path))  # warm the page cache
        read = best_of(args.repeats, lambda: faiss.read_index(str(path)))
        result = {
            "pairs": args.pairs,
            "dim": args.dim,
            "factory": factory,
            "bytes": record.bytes,
            "build_s": round(built, 1),
            "faiss_read_index_s": round(read, 3),
            "xxh3_128_s": round(best_of(args.repeats, lambda: check_file(path, record, "index.faiss")), 3),
            "sha256_s": round(best_of(args.repeats, lambda: stdlib_hash(path, "sha256")), 3),
            "blake2b_s": round(best_of(args.repeats, lambda: stdlib_hash(path, "blake2b")), 3),
            "load_verified_s": round(best_of(args.repeats, lambda: read_faiss_index(path, record)), 3),
            "load_unverified_s": round(
                best_of(args.repeats, lambda: read_faiss_index(path, record, verify=False)), 3
            ),
        }
    result["verify_overhead"] = round(result["load_verified_s"] / result["load_unverified_s"] - 1, 3)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
