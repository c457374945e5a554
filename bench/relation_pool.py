"""Accuracy on the relation pool: analogy questions made from the lexical relation val splits.

The pool (``relsearch.evaluation.relation_pool``) has up to ``--per-set`` questions per
lexical relation set, far more than the U2/U4 validation splits, and reads no test split.
Prompt vectors and word offsets are encoded once; each ``--weights`` value is scored from them.

    python bench/relation_pool.py --model data/model --weights 0 0.5 --json
    python bench/relation_pool.py --write pool.jsonl && relsearch eval pool.jsonl   # the same questions
"""

from __future__ import annotations

import argparse
import json

from word_weight import weight_table  # bench/word_weight.py, beside this script

from relsearch import RelationEncoder
from relsearch.evaluation.relation_pool import relation_pool
from relsearch.evaluation.shipped import LEXICAL_RELATION_DIR


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model spec (default: the shipped model)")
    ap.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.5])
    ap.add_argument("--per-set", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write", metavar="JSONL", help="write the questions as an analogy file and stop")
    args = ap.parse_args()

    pool = relation_pool(LEXICAL_RELATION_DIR, per_set=args.per_set, seed=args.seed)
    if args.write:
        with open(args.write, "w", encoding="utf-8") as fh:
            for name, questions in pool.items():
                for q in questions:
                    row = {
                        "stem": q.stem,
                        "choice": q.choices,
                        "answer": q.answer,
                        "prefix": f"{name}/{q.prefix}",
                    }
                    fh.write(json.dumps(row) + "\n")
        print(f"wrote {sum(map(len, pool.values())):,} questions to {args.write}")
        return
    encoder = RelationEncoder(args.model, word_weight=0.0, dtype=args.dtype)
    table = weight_table(encoder, pool, args.weights)
    sizes = {name: len(qs) for name, qs in pool.items()}
    if args.json:
        print(json.dumps({"model": encoder.source, "questions": sizes, "table": table}, indent=2))
        return
    print(f"relation pool accuracy %, model {encoder.source}, questions {sizes}")
    print("w     " + " ".join(f"{n:>10}" for n in pool) + "       mean")
    for r in table:
        print(
            f"{r['word_weight']:<5} "
            + " ".join(f"{r['accuracy'][n]:>10.1f}" for n in pool)
            + f" {r['mean']:>10.1f}"
        )


if __name__ == "__main__":
    main()
