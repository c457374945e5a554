"""Recall of related gold pairs among the candidate pairs a vocabulary gives, per model and k.

    python bench/candidate_recall.py [--vocab data/vocab.txt] [--model M ...] [--k 3 5 10]

For each model: single-word vectors of every vocabulary word (``RelationEncoder.encode_words``),
each word's k nearest words in both directions (``index_builder.candidates``), then the share
of ``bench/gold_pairs.tsv`` (head, tail, relation) found as ordered candidate pairs, overall and
per relation group. Every gold word is in data/vocab.txt, so a miss is the signal's, not the
vocabulary's.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages, not an installed copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", default=str(ROOT / "data" / "vocab.txt"))
    parser.add_argument("--gold", default=str(ROOT / "bench" / "gold_pairs.tsv"))
    parser.add_argument("--model", nargs="+", default=["pypi:all-mpnet-base-v2", "pypi:all-MiniLM-L6-v2"])
    parser.add_argument("--k", nargs="+", type=int, default=[3, 5, 10, 20])
    parser.add_argument("--misses", action="store_true", help="List the missed gold pairs at the largest k.")
    args = parser.parse_args()

    from index_builder.candidates import knn_pair_ids
    from index_builder.vocab import read_vocab
    from relsearch.encoding import RelationEncoder

    vocab = read_vocab(args.vocab)
    index = {w: i for i, w in enumerate(vocab.words)}
    with open(args.gold, encoding="utf-8") as fh:
        gold = [(r["head"], r["tail"], r["relation"]) for r in csv.DictReader(fh, delimiter="\t")]
    absent = sorted({w for h, t, _ in gold for w in (h, t) if w not in index})
    gold = [g for g in gold if g[0] in index and g[1] in index]
    print(f"vocabulary {args.vocab}: {len(vocab.words):,} words; gold pairs in it: {len(gold)}")
    if absent:
        print(f"  gold words not in the vocabulary (pairs skipped): {', '.join(absent)}")
    print("| model | k | candidate pairs | pairs/word | gold recall | word vectors (s) |")
    print("|---|---|---|---|---|---|")
    for spec in args.model:
        encoder = RelationEncoder(spec)
        t0 = time.perf_counter()
        vectors = encoder.encode_words(vocab.words)
        seconds = time.perf_counter() - t0
        for k in args.k:
            heads, tails = knn_pair_ids(vectors, k)
            n = len(vocab.words)
            found = set((heads * n + tails).tolist())
            hits = [(h, t, r) for h, t, r in gold if index[h] * n + index[t] in found]
            print(
                f"| {spec} | {k} | {len(heads):,} | {len(heads) / n:.1f} | "
                f"{len(hits)}/{len(gold)} = {len(hits) / len(gold):.1%} | {seconds:.1f} |"
            )
        if args.misses:
            by_group: dict[str, list[str]] = defaultdict(list)
            for h, t, r in gold:
                if (h, t, r) not in hits:
                    by_group[r].append(f"{h}:{t}")
            for group, pairs in sorted(by_group.items()):
                print(f"  missed at k={args.k[-1]} [{group}]: {' '.join(pairs)}")


if __name__ == "__main__":
    main()
