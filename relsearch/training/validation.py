"""Per-epoch validation: analogy accuracy on the validation splits and the held-out SemEval loss."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relsearch.errors import DataFormatError
from relsearch.evaluation.analogy import AnalogyQuestion, evaluate_analogies, load_analogy_questions
from relsearch.pairs import Pair
from relsearch.training.loss import info_nce
from relsearch.training.prompt_bank import PromptBank
from relsearch.training.semeval import TrainingData

#: Validation splits used for model selection: short name -> folder under ``analogy_questions/``.
#: Selection uses the unweighted mean over these six splits (the four small analogy sets of the
#: RelBERT paper plus the larger T-REX and ConceptNet relational-similarity splits).
VALID_SETS: dict[str, str] = {
    "u2": "u2",
    "u4": "u4",
    "google": "google",
    "bats": "bats",
    "t_rex": "t_rex_relational_similarity",
    "conceptnet": "conceptnet_relational_similarity",
}


def load_valid_sets(
    data_dir: str | os.PathLike[str], names: tuple[str, ...] = tuple(VALID_SETS)
) -> dict[str, list[AnalogyQuestion]]:
    """``analogy_questions/<folder>/valid.jsonl`` for each name (never the test splits)."""
    root = Path(data_dir).expanduser() / "analogy_questions"
    paths = {n: root / VALID_SETS.get(n, n) / "valid.jsonl" for n in names}
    missing = [str(p.relative_to(root)) for p in paths.values() if not p.is_file()]
    if missing:
        raise DataFormatError(
            f"no analogy validation split {', '.join(missing)} under {str(root)!r}; "
            "pass --data pointing at the shared data folder"
        )
    return {n: load_analogy_questions(p) for n, p in paths.items()}


def valid_pairs(sets: dict[str, list[AnalogyQuestion]]) -> list[Pair]:
    """Every distinct pair of the validation questions."""
    seen: dict[Pair, None] = {}
    for questions in sets.values():
        for q in questions:
            for pair in (q.stem, *q.choices):
                seen.setdefault(pair, None)
    return list(seen)


def heldout_loss(
    vectors: torch.Tensor, bank: PromptBank, data: TrainingData, temperature: float
) -> float | None:
    """Mean over relations of InfoNCE with held-out positives as anchors, every other positive
    as partner and the relation's whole validation negative pool in the denominator."""
    losses = []
    for rel in data.relations:
        if not rel.valid_positives:
            continue
        pos = vectors[bank.indices([*rel.valid_positives, *rel.train_positives])]
        neg = vectors[bank.indices(rel.valid_negatives)]
        losses.append(float(info_nce(pos, neg, temperature, n_anchors=len(rel.valid_positives))))
    return float(np.mean(losses)) if losses else None


def validate(
    bank: PromptBank,
    data: TrainingData,
    sets: dict[str, list[AnalogyQuestion]],
    temperature: float,
) -> tuple[dict[str, Any], torch.Tensor]:
    """Encode every bank pair once (eval mode); score analogies and the held-out loss.

    Returns the scores and the unit vectors of all bank pairs (row = bank index).
    """
    vectors = bank.unit_vectors(range(len(bank)))
    table = torch.from_numpy(vectors)
    analogy = {
        name: evaluate_analogies(questions, lambda pairs: vectors[bank.indices(pairs)]).accuracy
        for name, questions in sets.items()
    }
    scores = {
        "analogy": analogy,
        "mean_analogy": float(np.mean(list(analogy.values()))) if analogy else 0.0,
        "valid_loss": heldout_loss(table, bank, data, temperature),
    }
    return scores, table
