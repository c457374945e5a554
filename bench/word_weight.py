"""Choose the hybrid word-difference weight on the validation splits (never the test splits).

A hybrid vector is ``[sqrt(1-w) * prompt, sqrt(w) * unit(v(tail) - v(head))]``, so its cosine is
``(1-w) * cos(prompts) + w * cos(word offsets)``: the prompt vectors and the word vectors are
encoded once and every weight is scored from the same two cosine tables. Prints validation
accuracy per split and the unweighted mean for each weight; the best mean is marked.

    python bench/word_weight.py --model data/model --json

``relsearch eval SETS --split valid --word-weight W`` gives the same numbers for one weight.
``--word-models self pypi:all-mpnet-base-v2`` scores the same prompt vectors with the word
vectors of other models too (``self``: the model's own ``word_model``, or the model itself).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from relsearch import RelationEncoder
from relsearch.evaluation.analogy import distinct_pairs, evaluate_analogy_sets, load_analogy_questions
from relsearch.evaluation.shipped import analogy_path

SETS = ("u2", "u4", "google", "bats", "t_rex", "conceptnet")
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def weight_table(
    encoder: RelationEncoder,
    questions: dict[str, list],
    weights: list[float],
    word_models: list[str] = ["self"],  # noqa: B006 (read only)
) -> list[dict]:
    """Accuracy (%) per set and mean for each word model and weight; prompts are encoded once.

    ``encoder`` must have ``word_weight`` 0 (prompt vectors); ``self`` is its own word vectors.
    """
    pairs = distinct_pairs(questions.values())
    prompts = _unit(encoder.encode(pairs, show_progress_bar=True))
    words = sorted({w for p in pairs for w in p})
    row = {w: i for i, w in enumerate(words)}
    index = {p: i for i, p in enumerate(pairs)}
    own = encoder.settings
    table = []
    for word_model in word_models:
        encoder.use_word_model(own.word_model if word_model == "self" else word_model)
        word_vecs = encoder.encode_words(words)
        offsets = _unit(word_vecs[[row[t] for _, t in pairs]] - word_vecs[[row[h] for h, _ in pairs]])
        for w in weights:
            hybrid = np.hstack([np.sqrt(1 - w) * prompts, np.sqrt(w) * offsets])
            results = evaluate_analogy_sets(questions, lambda ps, h=hybrid: h[[index[p] for p in ps]])
            acc = {name: 100 * r.accuracy for name, r in results.items()}
            mean = float(np.mean(list(acc.values())))
            table.append({"word_model": word_model, "word_weight": w, "accuracy": acc, "mean": mean})
    encoder.use_word_model(own.word_model)
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    ap.add_argument("--sets", nargs="+", default=list(SETS))
    ap.add_argument("--weights", nargs="+", type=float, default=list(WEIGHTS))
    ap.add_argument("--dtype", default="float32")
    ap.add_argument(
        "--word-models",
        nargs="+",
        default=["self"],
        help="word-vector sources (self: the model's own)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    questions = {name: load_analogy_questions(analogy_path(name, "valid")) for name in args.sets}
    encoder = RelationEncoder(args.model, word_weight=0.0, dtype=args.dtype)
    table = weight_table(encoder, questions, args.weights, args.word_models)
    best = max(table, key=lambda r: r["mean"])
    if args.json:
        print(json.dumps({"model": encoder.source, "split": "valid", "table": table, "best": best}, indent=2))
        return
    print(f"validation accuracy %, model {encoder.source}")
    print(f"{'word model':<24} w     " + " ".join(f"{n:>10}" for n in args.sets) + "       mean")
    for r in table:
        mark = "  *best*" if r is best else ""
        cells = " ".join(f"{r['accuracy'][n]:>10.1f}" for n in args.sets)
        print(f"{r['word_model']:<24} {r['word_weight']:<5} {cells} {r['mean']:>10.1f}{mark}")


if __name__ == "__main__":
    main()
