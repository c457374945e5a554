"""Encoding speed of relation models built on different base encoders, same pairs, same run.

``--hybrid`` adds each model as users run it (its hybrid vectors, word vectors computed anew
every round, from the model's ``word_model`` where it names one, as ``--model fast`` does).
Every model encodes the same pairs of default-vocabulary words with RelBERT prompt vectors only
(``word_weight=0``: one forward pass per pair, the cost that a base encoder decides) at the
chosen dtypes. Each round runs every arm once, in turn, so machine drift hits all alike; rates
are medians over rounds and ratios are against the first model at the first dtype.

    python bench/base_encoders.py [--models default pypi:all-MiniLM-L6-v2]
                                  [--dtypes float32 int8] [--pairs 1000] [--rounds 3] [--json]

The default model is MPNet-base (all-mpnet-base-v2) fine-tuned; a model trained from
all-MiniLM-L6-v2 has MiniLM's architecture, so the base model's speed is the trained model's.
A human table first; with --json the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from encode import sample_pairs  # bench/encode.py: the same pair sample

from relsearch import RelationEncoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["default", "pypi:all-MiniLM-L6-v2"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "int8"])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--hybrid",
        action="store_true",
        help="also time each model as users run it: hybrid vectors, word vectors computed every round",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    pairs = sample_pairs(args.pairs)
    arms: dict[str, RelationEncoder] = {}
    info: dict[str, dict] = {}
    for model in args.models:
        for dtype in args.dtypes:
            spec = None if model == "default" else model
            enc = RelationEncoder(spec, dtype=dtype, batch_size=args.batch_size, word_weight=0.0)
            name = f"{model} {enc.dtype}"
            arms[name] = enc
            info[name] = {
                "model": model,
                "source": enc.source,
                "dtype": enc.dtype,
                "dim": enc.dim,
                "layers": enc.model.config.num_hidden_layers,
                "hidden": enc.model.config.hidden_size,
                "parameters": sum(p.numel() for p in enc.model.parameters()),
            }
            enc.encode(pairs[: args.batch_size])  # warm-up: int8 set-up, allocator, oneDNN kernels
            full = RelationEncoder(spec, dtype=dtype, batch_size=args.batch_size)
            if args.hybrid and full.word_weight:
                arms[f"{name} hybrid"] = full
                info[f"{name} hybrid"] = {**info[name], "dim": full.dim, "hybrid": True}
                full.encode(pairs[: args.batch_size])
    rates: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(args.rounds):
        for name, enc in arms.items():
            enc.clear_word_cache()  # a hybrid arm pays for its word vectors every round
            start = time.perf_counter()
            enc.encode(pairs)
            rates[name].append(len(pairs) / (time.perf_counter() - start))
    base = next(iter(arms))
    median = {name: statistics.median(r) for name, r in rates.items()}
    for name in arms:
        info[name]["pairs_per_s"] = round(median[name], 2)
        info[name]["pairs_per_s_all_rounds"] = [round(x, 2) for x in rates[name]]
        info[name]["ratio"] = round(median[name] / median[base], 2)

    threads = torch.get_num_threads()
    print(f"{len(pairs)} pairs, batch {args.batch_size}, {args.rounds} rounds, {threads} threads")
    print(
        f"{'model':<34} {'dtype':<8} {'vectors':<8} {'layers':>6} {'params':>8} {'pairs/s':>9} {'ratio':>6}"
    )
    for row in info.values():
        kind = "hybrid" if row.get("hybrid") else "prompt"
        print(
            f"{row['model']:<34} {row['dtype']:<8} {kind:<8} {row['layers']:>6} "
            f"{row['parameters'] / 1e6:>7.0f}M {row['pairs_per_s']:>9.1f} {row['ratio']:>6.2f}"
        )
    if args.json:
        print(json.dumps({"pairs": len(pairs), "rounds": args.rounds, "baseline": base, "arms": info}))


if __name__ == "__main__":
    main()
