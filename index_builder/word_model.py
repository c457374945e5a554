"""Which model's single-word vectors choose a vocabulary's candidate pairs.

Relation fine-tuning reshapes a model's space of single words: for the default model
(all-mpnet-base-v2 with its top six layers trained by ``relsearch train``) the recall of the
gold pairs in ``bench/gold_pairs.tsv`` at k=10 falls from 90.4% with the base model's word
vectors to 78.1% with the fine-tuned ones (``python bench/candidate_recall.py``). So a model
shipped as a delta over a base model takes its candidates from that base model by default;
any other model uses its own word vectors; a distilled model whose ``relbert_config`` names a
``word_model`` (its teacher) takes the candidates its teacher would. ``--word-model`` overrides
every choice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

#: ``word_model`` value meaning "the relation model's own word vectors".
RELATION_MODEL = "relation-model"


def resolve_word_model(
    word_model: str | None, model: str | os.PathLike[str] | None, encoder: Any = None
) -> str:
    """The word model's resolved source, or ``RELATION_MODEL``; raise on a bad spec.

    Reads at most one JSON file: no model is loaded here.
    """
    from relsearch.encoding.loading import delta_base_spec, resolve_spec

    if word_model is not None:
        if word_model in (RELATION_MODEL, "same"):
            return RELATION_MODEL
        return resolve_spec(word_model)[0]
    if encoder is not None:
        return RELATION_MODEL
    words = hybrid_word_model(model)
    base = delta_base_spec(words or model)
    if base is not None:
        return resolve_spec(base)[0]
    return resolve_spec(words)[0] if words is not None else RELATION_MODEL


def hybrid_word_model(model: str | os.PathLike[str] | None) -> str | None:
    """The ``word_model`` a model directory's ``relbert_config`` names (resolved), or None.

    A distilled model takes its hybrid word vectors from its teacher; its candidate pairs then
    come from the same place as the teacher's.
    """
    import json

    from relsearch.encoding.loading import relative_spec, resolve_spec
    from relsearch.errors import ModelLoadError

    _, local_dir = resolve_spec(model)
    if local_dir is None:
        return None
    try:
        config = json.loads((local_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {local_dir / 'config.json'}: {exc}") from exc
    spec = (config.get("relbert_config") or {}).get("word_model")
    if not spec:
        return None
    return resolve_spec(relative_spec(spec, local_dir))[0]


def word_vectors(
    words: Sequence[str], word_model: str, relation_encoder: Any, *, batch_size: int
) -> np.ndarray:
    """Unit vectors of ``words`` from ``word_model`` (loaded here and dropped after use).

    The word model runs on the relation encoder's backend at its precision when that is float32
    or bfloat16 (the precisions that pass the accuracy gate for single words), else in float32:
    on a CPU where ``auto`` chose OpenVINO bfloat16, 75,000 words take a fraction of the float32
    time. The chosen candidates are stored in ``pairs.parquet``, so a resumed build reuses them.
    """
    if word_model == RELATION_MODEL:
        return relation_encoder.encode_words(words, batch_size=batch_size)
    from relsearch.encoding import RelationEncoder

    dtype = getattr(relation_encoder, "dtype", "float32")
    backend = getattr(relation_encoder, "backend", "torch")
    if dtype not in ("float32", "bfloat16"):
        dtype = "float32"
    return RelationEncoder(word_model, dtype=dtype, backend=backend).encode_words(
        words, batch_size=batch_size
    )
