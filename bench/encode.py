"""Encoding throughput: the RelBERT reference method vs relsearch's encoder, same model, same pairs.

Reference method (as in the relbert package): every prompt padded to 64 tokens, float32,
fixed batches in input order, hidden states summed over the selected tokens. relsearch:
``RelationEncoder.encode`` (deduplicated prompts, length-sorted batches, dynamic padding, the
chosen dtype; ``auto`` resolves to int8 on a CPU with VNNI and no bf16 units). Each round runs
every method once, in turn, so machine drift hits all alike; rates are medians over rounds.

The speedup compares like with like: relsearch computes the same prompt vectors as the
reference (``word_weight=0``). A model with hybrid vectors (``word_difference_weight`` > 0,
such as the default model) is also timed as users run it, word vectors included (the word
cache is cleared before every round, as in a first build), and reported as ``hybrid``.

The run also measures this machine's matmul peaks (float32, bfloat16 and int8 GEMMs of
2048^3, best of several) and reports relsearch's achieved GFLOP/s (2 x linear-layer parameters
x tokens actually computed, padding included) as a fraction of the peak of the precision it
used, and of the bfloat16 peak.

With ``--also openvino:bfloat16`` (any ``BACKEND:DTYPE``) more backends are timed; the OpenVINO
rows are measured against OpenVINO's own GEMM peak (a compiled 2048^3 MatMul at that
precision). ``--dtype auto`` (the default) is relsearch's ``auto``: backend and dtype from
this machine's cached calibration (``relsearch build-index`` makes it) or, without one, from
CPU flags; ``--calibrate`` runs the calibration first.

    python bench/encode.py [--model M] [--pairs 1000] [--rounds 3] [--dtype auto] [--calibrate]
                           [--also float32 int8 openvino:bfloat16] [--threads N] [--json]

A human table first; with --json the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
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
from relsearch.encoding.batching import length_sorted_batches
from relsearch.encoding.cpu_features import cpu_features, cpu_name
from relsearch.encoding.pooling import pool
from relsearch.templates import fill_template

REFERENCE_LENGTH = 64
HYBRID = "hybrid"


def sample_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct ordered pairs of words from the default vocabulary, in random order."""
    words = [
        w.strip()
        for w in (DATA_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
        if w.strip() and not w.startswith("#")
    ]
    rng = random.Random(seed)
    pairs: dict[tuple[str, str], None] = {}
    while len(pairs) < n:
        h, t = rng.sample(words, 2)
        pairs[(h, t)] = None
    return list(pairs)


@torch.inference_mode()
def reference_encode(encoder: RelationEncoder, pairs: list[tuple[str, str]], batch_size: int) -> np.ndarray:
    """The reference: pad to 64, float32, fixed batches, summed pooling, then normalise."""
    tok, model = encoder.tokenizer, encoder.model
    out = []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        prompts = [fill_template(encoder.template, h, t, tok.mask_token) for h, t in chunk]
        enc = tok(
            prompts, padding="max_length", max_length=REFERENCE_LENGTH, truncation=True, return_tensors="pt"
        )
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        out.append(
            pool(hidden, enc["input_ids"], enc["attention_mask"], tok.mask_token_id, encoder.aggregation)
        )
    vecs = torch.cat(out).numpy()
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def prompt_half(vectors: np.ndarray, dim: int) -> np.ndarray:
    """The prompt-vector part of (possibly hybrid) relation vectors, renormalised.

    A hybrid model's vectors are ``[sqrt(1-w) * prompt, sqrt(w) * word offset]``; the reference
    method computes the prompt part only (relsearch's timing includes the word part).
    """
    part = vectors[:, :dim]
    return part / np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-12)


def openvino_peak_gflops(kind: str, n: int = 2048, repeats: int = 5, trials: int = 3) -> float:
    """Best throughput (GFLOP/s) of an ``n^3`` MatMul compiled by OpenVINO at ``kind`` precision."""
    import openvino as ov
    import openvino.opset13 as ops

    a = ops.parameter([n, n], np.float32)
    b = ops.constant(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32))
    model = ov.Model([ops.matmul(a, b, False, False)], [a])
    precision = {"float32": "f32", "bfloat16": "bf16"}[kind]
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": precision})
    request = compiled.create_infer_request()
    x = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    request.infer({0: x})
    best = float("inf")
    for _ in range(trials):
        start = time.perf_counter()
        for _ in range(repeats):
            request.infer({0: x})
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * n**3 / best / 1e9


def matmul_peak_gflops(kind: str, n: int = 2048, repeats: int = 5, trials: int = 3) -> float:
    """Best measured GEMM throughput (GFLOP/s) of ``n^3`` for float32, bfloat16 or int8."""
    if kind == "int8":
        a = torch.randint(-127, 128, (n, n), dtype=torch.int8)
        b = torch.randint(-127, 128, (n, n), dtype=torch.int8)
        op = torch._int_mm
    else:
        dtype = torch.float32 if kind == "float32" else torch.bfloat16
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        op = torch.matmul
    op(a, b)
    best = float("inf")
    for _ in range(trials):
        start = time.perf_counter()
        for _ in range(repeats):
            op(a, b)
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * n**3 / best / 1e9


def linear_flops_per_token(model: torch.nn.Module) -> float:
    """2 x the weights of the encoder's linear layers: the matmul FLOPs of one token."""
    return 2.0 * sum(
        m.weight.numel()
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and not name.startswith("pooler")
    )


def computed_tokens(
    encoder: RelationEncoder, pairs: list[tuple[str, str]], batch_size: int
) -> tuple[int, int]:
    """(real tokens, tokens computed with relsearch's length-sorted dynamic padding)."""
    prompts = [encoder.prompt(p) for p in dict.fromkeys(pairs)]
    lengths = [len(r) for r in encoder.tokenizer(prompts)["input_ids"]]
    padded = sum(len(b) * max(lengths[i] for i in b) for b in length_sorted_batches(lengths, batch_size))
    return sum(lengths), padded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model spec (default: relsearch's default model)")
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dtype", default="auto", help="relsearch's dtype (default auto)")
    parser.add_argument(
        "--also", nargs="*", default=[], help="more arms: DTYPE or BACKEND:DTYPE, e.g. int8 openvino:bfloat16"
    )
    parser.add_argument("--calibrate", action="store_true", help="calibrate auto first (and cache it)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    pairs = sample_pairs(args.pairs)
    auto = args.dtype == "auto"
    ours = RelationEncoder(
        args.model,
        dtype=args.dtype,
        batch_size=args.batch_size,
        word_weight=0.0,
        backend="auto" if auto else "torch",
    )
    if args.calibrate:
        from relsearch.encoding.backend import calibrate, calibration_pairs

        calibrate(ours, calibration_pairs(), say=print)
    t0 = time.perf_counter()
    if ours.backend == "torch":
        ours.runner  # noqa: B018  (builds the int8 model: a one-off cost, reported apart)
    else:
        ours.encode(pairs[:2])  # exports and compiles the OpenVINO model: a one-off cost, reported apart
    setup_s = time.perf_counter() - t0
    arms: dict[str, RelationEncoder] = {arm_name(ours): ours}
    for spec in args.also:
        backend, _, dtype = spec.rpartition(":")
        enc = RelationEncoder(
            args.model, dtype=dtype, batch_size=args.batch_size, word_weight=0.0, backend=backend or "torch"
        )
        arms.setdefault(arm_name(enc), enc)
    hybrid = RelationEncoder(args.model, dtype=ours.dtype, batch_size=args.batch_size, backend=ours.backend)
    if hybrid.word_weight:
        arms[HYBRID] = hybrid

    def reference() -> np.ndarray:
        return reference_encode(ours, pairs, args.batch_size)

    def ours_fresh(enc: RelationEncoder) -> np.ndarray:
        enc.clear_word_cache()  # every round pays for its word vectors, as a first build does
        return enc.encode(pairs)

    runs = {"reference": reference, **{d: (lambda e=e: ours_fresh(e)) for d, e in arms.items()}}
    # warm-up: allocator, oneDNN kernels
    reference_encode(ours, pairs[: args.batch_size], args.batch_size)
    for enc in arms.values():
        enc.encode(pairs[: args.batch_size])
    rates: dict[str, list[float]] = {name: [] for name in runs}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            vectors[name] = run()
            rates[name].append(len(pairs) / (time.perf_counter() - start))
    rate = {name: statistics.median(r) for name, r in rates.items()}

    real, padded = computed_tokens(ours, pairs, args.batch_size)
    per_token = linear_flops_per_token(ours.model)
    peaks = {kind: matmul_peak_gflops(kind) for kind in ("float32", "bfloat16", "int8")}
    for enc in arms.values():
        if enc.backend == "openvino":
            peaks.setdefault(arm_name(enc), openvino_peak_gflops(enc.dtype))
    main_arm = arm_name(ours)
    used_peak = peaks[main_arm if ours.backend != "torch" else ours.dtype]
    achieved = {
        name: per_token * padded / len(pairs) * r / 1e9
        for name, r in rate.items()
        if name not in ("reference", HYBRID)
    }
    achieved["reference"] = per_token * REFERENCE_LENGTH * rate["reference"] / 1e9
    ref_vecs = vectors["reference"]
    cosine = {
        name: float((ref_vecs * prompt_half(v, ref_vecs.shape[1])).sum(1).min())
        for name, v in vectors.items()
        if name != "reference"
    }
    main_rate = rate[main_arm]
    own_peak = {
        name: peaks[name] if arms[name].backend != "torch" else peaks[arms[name].dtype]
        for name in arms
        if name in achieved
    }
    result = {
        "model": ours.source,
        "pairs": len(pairs),
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "relsearch_dtype": ours.dtype,
        "relsearch_backend": ours.backend,
        "relsearch_arm": main_arm,
        "requested_dtype": args.dtype,
        "int8_setup_s": round(setup_s, 2),
        "mean_tokens_per_prompt": round(real / len(pairs), 2),
        "computed_tokens_per_prompt": round(padded / len(pairs), 2),
        "reference_pairs_per_s": round(rate["reference"], 2),
        "relsearch_pairs_per_s": round(main_rate, 2),
        "speedup": round(main_rate / rate["reference"], 2),
        "hybrid_word_weight": hybrid.word_weight,
        "hybrid_pairs_per_s": round(rate[HYBRID], 2) if HYBRID in rate else None,
        "pairs_per_s": {name: round(r, 2) for name, r in rate.items()},
        "pairs_per_s_all_rounds": {name: [round(x, 2) for x in r] for name, r in rates.items()},
        "min_cosine_vs_reference": {name: round(c, 6) for name, c in cosine.items()},
        "matmul_peak_gflops": {k: round(v, 1) for k, v in peaks.items()},
        "achieved_gflops": {k: round(v, 1) for k, v in achieved.items()},
        "fraction_of_own_precision_peak": round(achieved[main_arm] / used_peak, 3),
        "fraction_of_own_peak_by_arm": {n: round(achieved[n] / p, 3) for n, p in own_peak.items()},
        "fraction_of_bf16_peak": round(achieved[main_arm] / peaks["bfloat16"], 3),
        "fraction_of_fp32_peak": round(achieved[main_arm] / peaks["float32"], 3),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cpu": cpu_name(),
        "cpu_features": cpu_features().to_dict(),
        "cpus": os.cpu_count(),
    }
    _print_table(result, rate, achieved, peaks, cosine)
    if args.json:
        print(json.dumps(result))


def arm_name(enc: RelationEncoder) -> str:
    """``bfloat16`` for a torch arm, ``openvino bfloat16`` for another backend."""
    return enc.dtype if enc.backend == "torch" else f"{enc.backend} {enc.dtype}"


def _print_table(
    r: dict, rate: dict[str, float], achieved: dict[str, float], peaks: dict[str, float], cos: dict
) -> None:
    print(
        f"{r['model']}, {r['pairs']} pairs, batch {r['batch_size']}, {r['rounds']} rounds, "
        f"{r['torch_threads']} threads, {r['cpu']}"
    )
    print(
        f"tokens per prompt: {r['mean_tokens_per_prompt']} real, {r['computed_tokens_per_prompt']} computed "
        f"(reference: {REFERENCE_LENGTH})"
    )
    print(f"{'method':<46}{'pairs/s':>9}{'speedup':>9}{'GFLOP/s':>9}{'min cos':>10}{'of peak':>8}")
    ref = rate["reference"]
    label = "reference (pad 64, float32, fixed batches)"
    print(f"{label:<46}{ref:>9.1f}{1.0:>9.2f}{achieved['reference']:>9.0f}")
    for name, value in rate.items():
        if name == "reference":
            continue
        if name == HYBRID:
            label = f"relsearch {r['relsearch_arm']}, hybrid (+ word vectors)"
            print(f"{label:<46}{value:>9.1f}{value / ref:>9.2f}{'-':>9}{cos[name]:>10.5f}")
            continue
        auto = name == r["relsearch_arm"] and r["requested_dtype"] == "auto"
        label = f"relsearch {'auto: ' if auto else ''}{name}"
        frac = r["fraction_of_own_peak_by_arm"].get(name)
        share = f"{frac:>7.0%}" if frac is not None else ""
        print(f"{label:<46}{value:>9.1f}{value / ref:>9.2f}{achieved[name]:>9.0f}{cos[name]:>10.5f}{share}")
    print(
        "matmul peaks (2048^3 GEMM; torch, and OpenVINO's own for its rows): "
        + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peaks.items())
    )
    print(
        f"relsearch ({r['relsearch_arm']}): {r['fraction_of_own_precision_peak']:.0%} of its own "
        f"peak, {r['fraction_of_bf16_peak']:.0%} of the torch bfloat16 peak, "
        f"{r['fraction_of_fp32_peak']:.0%} of the float32 peak; speedup {r['speedup']}x"
    )


if __name__ == "__main__":
    main()
