"""Encoding throughput: the RelBERT reference method vs relsearch's encoder, same model, same pairs.

Reference method (as in the relbert package): every prompt padded to 64 tokens, float32,
fixed batches in input order, hidden states summed over the selected tokens. relsearch:
``RelationEncoder.encode`` (length-sorted batches, dynamic padding, chosen dtype). Rounds
alternate between the two to cancel machine drift; rates are medians over rounds. The run also
measures this machine's bfloat16 matmul throughput and reports relsearch's achieved fraction.

    python bench/encode.py [--model M] [--pairs 2000] [--rounds 3] [--dtype bfloat16] [--json]

The last line with --json is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relsearch import RelationEncoder
from relsearch.default_model import DATA_DIR
from relsearch.encoding.pooling import pool
from relsearch.templates import fill_template


def sample_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct ordered pairs of words from the default vocabulary (or the analogy data)."""
    vocab = DATA_DIR / "vocab.txt"
    if vocab.exists():
        words = [w.strip() for w in vocab.read_text().splitlines() if w.strip() and not w.startswith("#")]
    else:
        words = sorted(
            {
                w
                for line in (DATA_DIR / "analogy" / "bats" / "test.jsonl").read_text().splitlines()
                for pair in json.loads(line)["choice"]
                for w in pair
            }
        )
    rng = random.Random(seed)
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < n:
        h, t = rng.sample(words, 2)
        pairs.add((h, t))
    return sorted(pairs)


@torch.inference_mode()
def reference_encode(encoder: RelationEncoder, pairs: list[tuple[str, str]], batch_size: int) -> np.ndarray:
    """The reference: pad to 64, float32, fixed batches, summed pooling, then normalise."""
    tok, model = encoder.tokenizer, encoder.model
    out = []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        prompts = [fill_template(encoder.template, h, t, tok.mask_token) for h, t in chunk]
        enc = tok(prompts, padding="max_length", max_length=64, truncation=True, return_tensors="pt")
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask_id = tok.mask_token_id
        out.append(pool(hidden, enc["input_ids"], enc["attention_mask"], mask_id, encoder.aggregation))
    vecs = torch.cat(out).numpy()
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def bf16_matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Measured bfloat16 GEMM throughput (GFLOP/s) on this machine, best of a few runs."""
    a = torch.randn(n, n, dtype=torch.bfloat16)
    b = torch.randn(n, n, dtype=torch.bfloat16)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            torch.matmul(a, b)
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * n**3 / best / 1e9


def model_flops_per_token(encoder: RelationEncoder) -> float:
    """2 x non-embedding parameters: the matmul FLOPs one token costs in a forward pass."""
    params = sum(p.numel() for n, p in encoder.model.named_parameters() if "embeddings" not in n)
    return 2.0 * params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    pairs = sample_pairs(args.pairs)
    ours = RelationEncoder(args.model, dtype=args.dtype, batch_size=args.batch_size)
    ref_rates, our_rates = [], []
    ours.encode(pairs[:64])  # warm-up (allocator, oneDNN kernels)
    reference_encode(ours, pairs[:64], args.batch_size)
    for _ in range(args.rounds):
        start = time.perf_counter()
        ref_vecs = reference_encode(ours, pairs, args.batch_size)
        ref_rates.append(len(pairs) / (time.perf_counter() - start))
        start = time.perf_counter()
        our_vecs = ours.encode(pairs)
        our_rates.append(len(pairs) / (time.perf_counter() - start))
    ref_rate, our_rate = statistics.median(ref_rates), statistics.median(our_rates)
    cosine = float((ref_vecs * our_vecs).sum(1).min())
    tokens = sum(
        len(r)
        for r in ours.tokenizer(
            [fill_template(ours.template, h, t, ours.tokenizer.mask_token) for h, t in pairs]
        )["input_ids"]
    )
    peak = bf16_matmul_gflops()
    achieved = model_flops_per_token(ours) * tokens / len(pairs) * our_rate / 1e9
    result = {
        "model": ours.source,
        "pairs": len(pairs),
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "relsearch_dtype": args.dtype,
        "mean_tokens_per_prompt": round(tokens / len(pairs), 1),
        "reference_pairs_per_s": round(ref_rate, 1),
        "relsearch_pairs_per_s": round(our_rate, 1),
        "speedup": round(our_rate / ref_rate, 2),
        "min_cosine_vs_reference": round(cosine, 6),
        "bf16_matmul_gflops": round(peak, 1),
        "relsearch_gflops": round(achieved, 1),
        "fraction_of_bf16_peak": round(achieved / peak, 3),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
    }
    print(f"{'method':<44}{'pairs/s':>10}")
    print(f"{'reference (pad 64, fp32, fixed batches)':<44}{ref_rate:>10.1f}")
    print(f"{'relsearch (sorted, dynamic pad, ' + args.dtype + ')':<44}{our_rate:>10.1f}")
    print(f"speedup {result['speedup']}x; min cosine to reference vectors {cosine:.6f}")
    print(
        f"bf16 matmul peak {peak:.0f} GFLOP/s; relsearch achieves {achieved:.0f} GFLOP/s "
        f"({100 * achieved / peak:.0f}% of peak)"
    )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
