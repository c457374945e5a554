"""ONNX Runtime against relsearch's backends, on the same pairs in one run (a measurement only).

relsearch ships OpenVINO as its compiled CPU backend. This script checks the alternative:
the model and its pooling are exported with ``torch.onnx.export`` (the same padded example as
the OpenVINO export), run by ONNX Runtime's CPU provider in float32 and as a dynamically
quantised int8 model (``onnxruntime.quantization.quantize_dynamic``), and timed against torch
bfloat16 and OpenVINO bfloat16 on the same length-sorted batches. Each row gives pairs/s, the
ratio to torch bfloat16 and the minimum cosine to torch float32.

    pip install onnx onnxruntime onnxscript     # not relsearch dependencies
    python bench/onnxruntime_compare.py --pairs 1000 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's relsearch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from relsearch import RelationEncoder
    from relsearch.encoding.batching import length_sorted_batches, pad_batch
    from relsearch.encoding.cpu_features import cpu_name
    from relsearch.encoding.openvino_backend import OpenVINOForward, _Pooled
    from relsearch.encoding.pooling import pool

    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from encode import sample_pairs  # the same pairs as bench/encode.py

    pairs = sample_pairs(args.pairs)
    enc = RelationEncoder(args.model, word_weight=0.0, trace=False)
    mask_id = int(enc.tokenizer.mask_token_id)
    ids = enc._tokenize([enc.prompt(p) for p in pairs])
    pad_id = int(enc.tokenizer.pad_token_id or 0)
    groups = length_sorted_batches([len(r) for r in ids], args.batch_size)
    batches = [pad_batch([ids[i] for i in b], pad_id) for b in groups]

    tmp = Path(tempfile.mkdtemp(prefix="relsearch-ort-"))
    onnx_path, int8_path = tmp / "model.onnx", tmp / "model-int8.onnx"
    example = (torch.from_numpy(batches[0][0][:2]), torch.from_numpy(batches[0][1][:2]))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Pooled(enc.model, mask_id, enc.aggregation).eval(),
            example,
            str(onnx_path),
            input_names=["input_ids", "attention_mask"],
            output_names=["pooled"],
            dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}},
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(str(onnx_path), str(int8_path), weight_type=QuantType.QInt8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    sessions = {
        name: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for name, path in (("onnxruntime float32", onnx_path), ("onnxruntime int8", int8_path))
    }
    ov = OpenVINOForward.for_prompts(enc, "bfloat16", threads=args.threads)

    def torch_run(dtype: torch.dtype | None):  # type: ignore[no-untyped-def]
        def run(ids_np, att_np):  # type: ignore[no-untyped-def]
            i, a = torch.from_numpy(ids_np), torch.from_numpy(att_np)
            with (
                torch.inference_mode(),
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype is not None),
            ):
                hidden = enc.model(input_ids=i, attention_mask=a).last_hidden_state
            return pool(hidden, i, a, mask_id, enc.aggregation).numpy()

        return run

    def ort_run(session):  # type: ignore[no-untyped-def]
        return lambda i, a: session.run(
            None, {"input_ids": i.astype(np.int64), "attention_mask": a.astype(np.int64)}
        )[0]

    arms = {
        "torch float32 (reference)": torch_run(None),
        "torch bfloat16": torch_run(torch.bfloat16),
        "openvino bfloat16": lambda i, a: ov(i, a),
        **{name: ort_run(s) for name, s in sessions.items()},
    }
    vectors, seconds = {}, {name: [] for name in arms}
    for name, fn in arms.items():  # warm-up, and the vectors for the cosine column
        out = np.concatenate([fn(i, a) for i, a in batches])
        vectors[name] = out / np.linalg.norm(out, axis=1, keepdims=True)
    for _ in range(args.rounds):  # arms alternate within each round
        for name, fn in arms.items():
            start = time.perf_counter()
            for i, a in batches:
                fn(i, a)
            seconds[name].append(time.perf_counter() - start)
    ref = vectors["torch float32 (reference)"]
    rate = {name: len(pairs) / min(s) for name, s in seconds.items()}
    base = rate["torch bfloat16"]
    print(f"{enc.source}, {len(pairs)} pairs, {args.rounds} rounds, {args.threads} threads, {cpu_name()}")
    print(f"{'arm':30s} {'pairs/s':>9s} {'vs torch bf16':>14s} {'min cos':>9s}")
    for name in arms:
        cos = float(np.min(np.sum(vectors[name] * ref, axis=1)))
        print(f"{name:30s} {rate[name]:9.1f} {rate[name] / base:13.2f}x {cos:9.5f}")
    print(json.dumps({"model": enc.source, "pairs": len(pairs), "pairs_per_s": rate, "cpu": cpu_name()}))


if __name__ == "__main__":
    main()
