"""Query latency and recall of a large index: indexed pairs, new pairs, recall@10 against exact search.

Builds a synthetic index of ``--pairs`` clustered unit vectors (float16 shards, Parquet pairs over
``--words`` words) in the dimension of ``--model``, with the FAISS index that ``build-index``
chooses for that size (``index_builder``: index type from the memory budget, nprobe tuned for
recall@10 >= 0.95), then measures:

- indexed pairs: ``RelationIndex.search(pair, k=10)`` (stored vector, overlap filter, FAISS,
  exact re-scoring, metadata), against a raw ``faiss_index.search`` of the same vector;
- new pairs of indexed words: real word pairs the index lacks, whose words it holds (the
  vocabulary's first words are the real words of ``NEW_PAIRS``, and ``word_vectors.parquet``
  holds their vectors, as ``build-index`` writes it for hybrid models), encoded with ``--model``
  then searched, against ``encoder.encode`` alone;
- new pairs of unseen words: the same, with the word vectors computed at query time;
- recall@10 of the FAISS index against exact inner-product search over the stored vectors, for
  held-out query vectors drawn like the indexed ones (synthetic data: real embeddings differ).

Memory: 1M x 1,536 float16 vectors are 2.9 GB; the builder's IVF-SQ8 index 1.5 GB.

    python bench/query.py --pairs 1000000 --model default   # the README numbers (minutes; 2 cores)
    python bench/query.py --pairs 50000 --queries 200       # a quick check

A human table goes to stdout, then one JSON line with every number.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's relsearch

THREADS_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

#: Real pairs for the new-pair latency (none is in the synthetic index).
NEW_PAIRS = [
    "barista:coffee", "baker:bread", "brewer:beer", "winemaker:wine", "bartender:cocktail",
    "king:queen", "man:woman", "paris:france", "tokyo:japan", "dog:puppy", "cat:kitten",
    "hammer:nail", "pen:ink", "teacher:school", "doctor:hospital", "pilot:airplane", "bee:hive",
    "wolf:pack", "fish:water", "bird:nest", "cow:milk", "hen:egg", "sheep:wool", "tree:forest",
    "star:galaxy", "word:sentence", "note:melody", "brick:wall", "page:book", "key:lock",
    "painter:canvas", "sculptor:marble", "author:novel", "composer:symphony", "chef:kitchen",
    "farmer:field", "sailor:ship", "judge:court", "actor:stage", "poet:poem",
]  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, default=1_000_000, help="synthetic pairs in the index")
    p.add_argument("--words", type=int, default=None, help="distinct words (default pairs/20)")
    p.add_argument("--clusters", type=int, default=1024, help="centres the synthetic vectors gather around")
    p.add_argument("--noise", type=float, default=1.5, help="per-dimension noise around a centre (centre: 1)")
    p.add_argument("--model", default="pypi:all-MiniLM-L6-v2", help="encoder for new pairs ('default' ok)")
    p.add_argument("--factory", default=None, help="FAISS factory (default: what build-index chooses)")
    p.add_argument("--memory-budget", default=None, help="build-index's --memory-budget (default 8G)")
    p.add_argument("--nprobe", type=int, default=None, help="override the tuned nprobe")
    p.add_argument("--shard-size", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=1000, help="indexed-pair queries to time")
    p.add_argument("--new-queries", type=int, default=len(NEW_PAIRS), help="new-pair queries to time")
    p.add_argument("--recall-queries", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--backend",
        default="auto",
        help="torch, openvino or auto (as build-index: the cached calibration, calibrating first if none)",
    )
    p.add_argument("--dtype", default="auto", help="float32, bfloat16, int8 or auto")
    p.add_argument("--mmap", action="store_true", help="load the index with mmap=True")
    p.add_argument("--omp-wait-policy", default=None, help="set OMP_WAIT_POLICY (ACTIVE or PASSIVE)")
    p.add_argument(
        "--workdir", type=Path, default=None, help="where to write the index (default: a temp dir)"
    )
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def percentiles(samples: list[float]) -> dict[str, float]:
    import numpy as np

    ms = np.array(samples) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "n": len(ms)}


def timed(fn, items) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def real_words() -> list[str]:
    """The distinct words of NEW_PAIRS, in order of first use."""
    return list(dict.fromkeys(w for pair in NEW_PAIRS for w in pair.split(":")))


def write_synthetic_index(path: Path, args: argparse.Namespace, encoder) -> dict:  # type: ignore[no-untyped-def]
    """Shards, pairs.parquet, word vectors, the builder's FAISS index and the manifest
    (relsearch/storage/); returns what was built and its timings."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from index_builder.faiss_build import build_faiss_index
    from index_builder.index_choice import parse_memory, plan_index
    from relsearch.index.stored_vectors import StoredVectors
    from relsearch.storage import layout as fmt
    from relsearch.storage.faiss_file import write_faiss_index
    from relsearch.storage.manifest import build_manifest, write_manifest
    from relsearch.storage.word_vectors_file import write_word_vectors

    n, dim, rng = args.pairs, encoder.dim, np.random.default_rng(args.seed)
    real = real_words()
    n_words = max(args.words or max(100, n // 20), 2 * len(real))
    t0 = time.perf_counter()
    (path / fmt.EMBEDDINGS_DIR).mkdir(parents=True, exist_ok=True)
    centres = rng.standard_normal((args.clusters, dim)).astype(np.float32)
    vectors = np.empty((n, dim), dtype=np.float16)
    for start in range(0, n, args.shard_size):
        m = min(args.shard_size, n - start)
        noise = args.noise * rng.standard_normal((m, dim), dtype=np.float32)
        block = centres[rng.integers(0, len(centres), m)] + noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start : start + m] = block
        np.save(fmt.shard_path(path, start // args.shard_size), vectors[start : start + m])
    # distinct (head, tail) pairs: a random permutation of the n_words^2 - n_words ordered pairs
    codes = rng.choice(n_words * (n_words - 1), size=n, replace=False)
    heads = codes // (n_words - 1)
    tails = codes % (n_words - 1)
    tails += tails >= heads
    words = np.array(real + [f"w{i}" for i in range(len(real), n_words)], dtype=object)
    table = pa.table({"id": np.arange(n), "head": words[heads].tolist(), "tail": words[tails].tolist()})
    pq.write_table(table, path / fmt.PAIRS_FILE)
    word_info = None
    if encoder.word_weight:  # what build-index stores for hybrid models (here: the real words only)
        write_word_vectors(path / fmt.WORD_VECTORS_FILE, real, encoder.encode_words(real))
        word_info = {"file": fmt.WORD_VECTORS_FILE, "words": len(real), "dim": encoder.word_dim}
    t_data = time.perf_counter() - t0

    t0 = time.perf_counter()
    plan = plan_index(n, dim, parse_memory(args.memory_budget), args.factory)
    result = build_faiss_index(
        StoredVectors(path, n=n, dim=dim, shard_size=args.shard_size), plan, seed=args.seed
    )
    if args.nprobe is not None:
        result.search_params = {"nprobe": args.nprobe}
        result.recall_at_10 = None  # the builder measured it at its tuned nprobe, not this one
    write_faiss_index(result.index, path / fmt.FAISS_FILE)
    t_faiss = time.perf_counter() - t0
    faiss_info = result.manifest_block(plan.reason, (path / fmt.FAISS_FILE).stat().st_size)
    manifest = build_manifest(
        encoder=encoder.describe(),
        faiss_info=faiss_info,
        counts={"pairs": n, "words": n_words, "shards": -(-n // args.shard_size)},
        shard_size=args.shard_size,
        input_info={"kind": "pairs", "fingerprint": f"synthetic-{args.seed}"},
        build={"settings": {"bench": True}, "durations": {"data_s": t_data, "faiss_s": t_faiss}},
    )
    if word_info is not None:
        manifest["word_vectors"] = word_info
    write_manifest(path, manifest)
    built = {
        "factory": plan.factory,
        "search_params": result.search_params,
        "builder_recall_at_10": result.recall_at_10,
        "words": n_words,
        "data_s": t_data,
        "faiss_s": t_faiss,
    }
    return {**built, "vectors": vectors, "centres": centres}


def held_out_queries(centres, count: int, noise: float, seed: int):  # type: ignore[no-untyped-def]
    """Unit vectors from the index's distribution that are not in the index."""
    import numpy as np

    rng = np.random.default_rng(seed + 7)
    dim = centres.shape[1]
    block = centres[rng.integers(0, len(centres), count)] + noise * rng.standard_normal((count, dim))
    return (block / np.linalg.norm(block, axis=1, keepdims=True)).astype(np.float32)


def exact_top10(vectors, queries):  # type: ignore[no-untyped-def]
    """Exact inner-product top-10 over float16 vectors, in float32 chunks."""
    import numpy as np

    best_s = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 10), dtype=np.int64)
    for start in range(0, len(vectors), 131072):
        scores = queries @ vectors[start : start + 131072].astype(np.float32).T
        part = np.argpartition(-scores, 9, axis=1)[:, :10]
        s = np.concatenate([best_s, np.take_along_axis(scores, part, 1)], axis=1)
        i = np.concatenate([best_i, part + start], axis=1)
        keep = np.argsort(-s, axis=1)[:, :10]
        best_s, best_i = np.take_along_axis(s, keep, 1), np.take_along_axis(i, keep, 1)
    return best_i


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    for name in THREADS_ENV:
        os.environ[name] = str(args.threads)
    if args.omp_wait_policy:  # default: unset, as users run it (PASSIVE doubles torch's batch-1 time)
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy
    import json

    import faiss
    import numpy as np
    import torch

    from relsearch import RelationEncoder, RelationIndex

    faiss.omp_set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    encoder = RelationEncoder(
        None if args.model == "default" else args.model, dtype=args.dtype, backend=args.backend
    )
    if "auto" in (args.backend, args.dtype):  # what build-index would encode the index with
        from relsearch.encoding import backend as backends

        if backends.cached_choice(encoder.content_fingerprint) is None:
            backends.calibrate(
                encoder, backends.calibration_pairs(), backend=args.backend, dtype=args.dtype, say=print
            )
    t_model = time.perf_counter() - t0

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="relsearch-bench-"))
    built = write_synthetic_index(workdir / "index", args, encoder)
    vectors, centres = built.pop("vectors"), built.pop("centres")
    t0 = time.perf_counter()
    index = RelationIndex.load(workdir / "index", mmap=args.mmap)
    t_load = time.perf_counter() - t0

    rng = np.random.default_rng(args.seed + 1)
    ids = rng.choice(len(index), size=args.queries, replace=False)
    pairs = index.table.pairs(ids)
    timed(lambda p: index.search(p, k=10), pairs[: min(50, len(pairs))])  # warm up
    api = timed(lambda p: index.search(p, k=10), pairs)
    raw_queries = index.stored.get(ids)
    raw = timed(lambda i: index.faiss_index.search(raw_queries[i : i + 1], 10), range(len(ids)))

    new_pairs = [p for p in NEW_PAIRS if p not in index]
    new_pairs = (new_pairs * (1 + args.new_queries // len(new_pairs)))[: args.new_queries]
    t0 = time.perf_counter()
    index.search("warm:up", k=10)  # loads the index's model from its manifest, checks the fingerprint
    t_index_model = time.perf_counter() - t0
    seeded = index.encoder.word_vectors(real_words())  # the stored word vectors, as loaded

    def unseen(pair: str) -> None:  # words the index does not hold: their vectors are computed
        index.encoder.clear_word_cache()
        index.search(pair, k=10)

    def encode_unseen(pair: str) -> None:
        encoder.clear_word_cache()
        encoder.encode(pair)

    for fn in (lambda p: index.search(p, k=10), unseen, encoder.encode, encode_unseen):
        timed(fn, ["baker:wine", "king:woman", "sheep:milk"])  # warm-up: the encoders trace
    encoder.word_vectors(real_words())  # the baseline's words cached too, like the index's
    index.encoder.add_word_vectors(real_words(), seeded)
    new = timed(lambda p: index.search(p, k=10), new_pairs)
    encode_only = timed(lambda p: encoder.encode(p), new_pairs)  # words cached from the warm-up
    new_unseen = timed(unseen, new_pairs)
    encode_unseen_only = timed(encode_unseen, new_pairs)

    queries = held_out_queries(centres, args.recall_queries, args.noise, args.seed)
    _, approx = index.faiss_index.search(queries, 10)
    exact = exact_top10(vectors, queries)
    recall = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)]))

    result = {
        "pairs": len(index),
        "words": built["words"],
        "dim": encoder.dim,
        "factory": built["factory"],
        "search_params": built["search_params"],
        "builder_recall_at_10": built["builder_recall_at_10"],
        "threads": args.threads,
        "mmap": args.mmap,
        "model": encoder.source,
        "dtype": encoder.dtype,
        "backend": encoder.backend,
        "indexed_pair": percentiles(api),
        "indexed_pair_raw_faiss": percentiles(raw),
        "new_pair": percentiles(new),
        "new_pair_encode_only": percentiles(encode_only),
        "new_pair_unseen_words": percentiles(new_unseen),
        "new_pair_unseen_words_encode_only": percentiles(encode_unseen_only),
        "recall_at_10": recall,
        "recall_queries": len(queries),
        "build_s": {"data": built["data_s"], "faiss": built["faiss_s"]},
        "load_s": t_load,
        "model_load_s": t_model,
        "index_model_load_s": t_index_model,
        "workdir": str(workdir),
    }
    print_table(result)
    print(json.dumps(result))
    return result


def print_table(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    params = ",".join(f"{k}={v}" for k, v in r["search_params"].items())
    title = (
        f"{r['pairs']:,} pairs, dim {r['dim']}, {r['factory']} {params}, {r['backend']} {r['dtype']}, "
        f"{r['threads']} threads{', mmap' if r['mmap'] else ''}"
    )
    table = Table(title=title, title_justify="left")
    for col in ("measure", "p50 ms", "p99 ms", "n", "vs baseline (p50)"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    rows = [
        ("indexed pair: index.search", "indexed_pair", "indexed_pair_raw_faiss"),
        ("  baseline: raw faiss search", "indexed_pair_raw_faiss", None),
        ("new pair, indexed words: index.search", "new_pair", "new_pair_encode_only"),
        ("  baseline: encoder.encode only", "new_pair_encode_only", None),
        (
            "new pair, unseen words: index.search",
            "new_pair_unseen_words",
            "new_pair_unseen_words_encode_only",
        ),
        ("  baseline: encoder.encode only", "new_pair_unseen_words_encode_only", None),
    ]
    for label, key, base in rows:
        m = r[key]
        ratio = f"{m['p50_ms'] / r[base]['p50_ms']:.2f}x" if base else ""
        table.add_row(label, f"{m['p50_ms']:.2f}", f"{m['p99_ms']:.2f}", str(m["n"]), ratio)
    console = Console()
    console.print(table)
    console.print(
        f"recall@10 vs exact search: {r['recall_at_10']:.4f} ({r['recall_queries']} queries); "
        f"build {r['build_s']['data']:.0f}s data + {r['build_s']['faiss']:.0f}s faiss; "
        f"load {r['load_s']:.1f}s; "
        f"model {r['model']}: first new pair (model load + fingerprint check) {r['index_model_load_s']:.1f}s"
    )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
