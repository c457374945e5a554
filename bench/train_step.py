"""Cost of one `relsearch train` step (forward + backward + AdamW) per precision, same steps, one run.

Builds the real trainer (real SemEval data, real base model), then times the same optimiser
steps (same relations, same sampled negatives) in float32 and in bfloat16 autocast, alternating
rounds so that both see the same machine state. Prints seconds per step, prompts per second,
the projected epoch time (89 steps) and the bf16/fp32 speed ratio measured in this run.

    python bench/train_step.py --train-layers 12 --negatives 96 --steps 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relsearch.encoding.cpu_features import cpu_features, cpu_name
from relsearch.training.loop import TrainConfig, Trainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="pypi:all-mpnet-base-v2")
    ap.add_argument("--train-layers", type=int, default=12)
    ap.add_argument("--negatives", type=int, default=96)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per precision and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pooling", default=None)
    ap.add_argument("--template", default="a")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(
            base=args.base,
            out=os.path.join(tmp, "run"),
            negatives=args.negatives,
            train_layers=args.train_layers,
            template=args.template,
            pooling=args.pooling,
            dtype="float32",
            epochs=1,
        )
        trainer = Trainer(cfg)
        trainer._build_cache()
        rng = np.random.default_rng(0)
        rels = rng.choice(len(trainer.data.relations), size=args.steps, replace=False)
        steps = []
        for r in rels:
            pos, pool = trainer.rel_pos[r], trainer.rel_neg[r]
            neg = pool[rng.choice(len(pool), size=min(args.negatives, len(pool)), replace=False)]
            steps.append((pos, neg))
        prompts = sum(len(p) + len(n) for p, n in steps)
        trainer.split.model.train()

        def run(bf16: bool) -> float:
            trainer.bank.bf16 = bf16
            t0 = time.perf_counter()
            for pos, neg in steps:
                loss = trainer._step_loss(pos, neg)
                trainer.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                trainer.optimizer.step()
            return time.perf_counter() - t0

        run(False)  # warm-up (allocator, oneDNN primitives)
        run(True)
        times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
        for _ in range(args.rounds):
            times["float32"].append(run(False))
            times["bfloat16"].append(run(True))

    per_epoch_prompts = sum(len(p) for p in trainer.rel_pos) + sum(
        min(args.negatives, len(n)) for n in trainer.rel_neg
    )
    result = {
        "cpu": cpu_name(),
        "flags": cpu_features().to_dict()["flags"],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "train_layers": args.train_layers,
        "negatives": args.negatives,
        "timed_steps": args.steps,
        "prompts_per_round": prompts,
        "epoch_prompts": per_epoch_prompts,
    }
    for name, ts in times.items():
        best = min(ts)
        rate = prompts / best
        result[name] = {
            "seconds_per_step": best / args.steps,
            "prompts_per_second": rate,
            "epoch_minutes": per_epoch_prompts / rate / 60,
        }
    result["bf16_speedup"] = min(times["float32"]) / min(times["bfloat16"])
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['cpu']} ({', '.join(result['flags'])}), {result['threads']} threads, "
        f"torch {torch.__version__}"
    )
    print(
        f"{args.base}, top {args.train_layers} layers trained, {args.negatives} negatives, "
        f"{args.steps} steps of {prompts / args.steps:.0f} prompts on average"
    )
    print(f"{'precision':<10} {'s/step':>8} {'prompts/s':>10} {'min/epoch':>10}")
    for name in ("float32", "bfloat16"):
        r = result[name]
        print(
            f"{name:<10} {r['seconds_per_step']:>8.2f} {r['prompts_per_second']:>10.1f} "
            f"{r['epoch_minutes']:>10.1f}"
        )
    print(f"bfloat16 / float32 speed: {result['bf16_speedup']:.2f}x")


if __name__ == "__main__":
    main()
