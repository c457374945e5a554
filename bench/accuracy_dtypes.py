"""Does a lossy dtype keep accuracy? U2 and BATS analogy test accuracy per dtype vs float32.

    python bench/accuracy_dtypes.py [--model M] [--dtypes float32 int8] [--sets u2 bats]
                                    [--split test] [--tolerance 0.5]

Every dtype encodes the same distinct pairs of all sets once (U2 + BATS test: 6,446 pairs;
about 2 minutes per dtype for MPNet-base on 2 cores at int8, 4 at float32). Prints a table, then
one JSON line: accuracies (in points), each dtype's difference to float32, the cosine of its
vectors to float32's, how many answers changed, and ``ok`` (every difference within --tolerance points).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relsearch import RelationEncoder
from relsearch.evaluation.analogy import distinct_pairs, evaluate_analogy_sets, load_analogy_questions
from relsearch.evaluation.shipped import analogy_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model spec (default: relsearch's default model)")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "int8"])
    parser.add_argument("--sets", nargs="+", default=["u2", "bats"])
    parser.add_argument("--split", default="test")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tolerance", type=float, default=0.5, help="allowed |difference| in points")
    args = parser.parse_args()
    dtypes = ["float32", *[d for d in args.dtypes if d != "float32"]]

    questions = {name: load_analogy_questions(analogy_path(name, args.split)) for name in args.sets}
    pairs = distinct_pairs(questions.values())
    accuracy: dict[str, dict[str, float]] = {}
    predictions: dict[str, dict[str, list[int]]] = {}
    vectors: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    source = None
    for dtype in dtypes:
        encoder = RelationEncoder(args.model, dtype=dtype, batch_size=args.batch_size)
        source = encoder.source
        start = time.perf_counter()
        vectors[encoder.dtype] = encoder.encode(pairs)
        seconds[encoder.dtype] = time.perf_counter() - start
        cached = dict(zip(pairs, vectors[encoder.dtype], strict=True))
        results = evaluate_analogy_sets(questions, lambda ps, c=cached: np.stack([c[p] for p in ps]))
        accuracy[encoder.dtype] = {name: 100 * r.accuracy for name, r in results.items()}
        predictions[encoder.dtype] = {name: r.predictions for name, r in results.items()}
        took = seconds[encoder.dtype]
        print(f"{encoder.dtype}: encoded {len(pairs)} pairs in {took:.0f} s", file=sys.stderr)

    base = accuracy["float32"]
    delta = {d: {n: acc[n] - base[n] for n in acc} for d, acc in accuracy.items() if d != "float32"}
    cosine = {
        d: {
            "min": float((v * vectors["float32"]).sum(1).min()),
            "mean": float((v * vectors["float32"]).sum(1).mean()),
        }
        for d, v in vectors.items()
        if d != "float32"
    }
    changed = {
        d: {n: sum(a != b for a, b in zip(p[n], predictions["float32"][n], strict=True)) for n in p}
        for d, p in predictions.items()
        if d != "float32"
    }
    ok = all(abs(x) <= args.tolerance for per_set in delta.values() for x in per_set.values())

    print(f"{source}, {args.split} split, {len(pairs)} distinct pairs")
    print(f"{'dtype':<10}" + "".join(f"{n:>10}" for n in args.sets) + f"{'pairs/s':>10}{'cos min':>10}")
    for d, acc in accuracy.items():
        cos = f"{cosine[d]['min']:>10.5f}" if d in cosine else f"{'':>10}"
        rate = len(pairs) / seconds[d]
        print(f"{d:<10}" + "".join(f"{acc[n]:>10.2f}" for n in args.sets) + f"{rate:>10.1f}" + cos)
        if d in delta:
            print(f"{'  diff':<10}" + "".join(f"{delta[d][n]:>+10.2f}" for n in args.sets))
            print(f"{'  changed':<10}" + "".join(f"{changed[d][n]:>10d}" for n in args.sets) + "  answers")
    print(f"within {args.tolerance} points of float32: {'yes' if ok else 'NO'}")
    print(
        json.dumps(
            {
                "model": source,
                "split": args.split,
                "pairs": len(pairs),
                "accuracy_points": accuracy,
                "difference_to_float32_points": delta,
                "questions": {n: len(q) for n, q in questions.items()},
                "changed_answers": changed,
                "cosine_to_float32": cosine,
                "pairs_per_s": {d: round(len(pairs) / s, 2) for d, s in seconds.items()},
                "tolerance_points": args.tolerance,
                "ok": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
