"""The *candidates* stage: a vocabulary or a pairs table in, the ``head``/``tail`` table out.

``read_input`` validates the input and describes it for the manifest (its fingerprint keys a
resume); ``candidate_table`` turns it into pairs: a pairs table as given, or a vocabulary's
k-nearest-word pairs (or every ordered pair).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from index_builder.candidates import all_pair_ids, knn_pair_ids
from index_builder.pairs_file import PairsInput, pairs_from_list, read_pairs_file
from index_builder.shards import PairEncoder
from index_builder.vocab import Vocabulary, read_vocab, vocab_from_words
from index_builder.word_model import RELATION_MODEL, word_vectors
from relsearch.errors import RelsearchError
from relsearch.pairs import PairLike

#: Names the candidate method in the input fingerprint: a change of method is a change of input.
CANDIDATE_METHOD = "word-vector-knn-v2"


@dataclass(frozen=True)
class BuildInput:
    """The validated input: a vocabulary or a pairs table, and its manifest description."""

    info: dict[str, Any]
    vocab: Vocabulary | None = None
    pairs: PairsInput | None = None


def _word_model_name(word_model: str) -> str:
    return "the relation model's transformer" if word_model == RELATION_MODEL else word_model


def read_input(
    vocab: str | os.PathLike[str] | Iterable[str] | None,
    pairs: str | os.PathLike[str] | Iterable[PairLike] | None,
    k: int,
    all_pairs: bool,
    word_model: str,
) -> BuildInput:
    """Read and check exactly one of ``vocab`` and ``pairs``; raise ``RelsearchError`` on bad input."""
    if (vocab is None) == (pairs is None):
        raise RelsearchError("give exactly one of a vocabulary (VOCAB) and a pairs file (--pairs)")
    if vocab is not None:
        if all_pairs:
            k = 0
        elif k < 1:
            raise RelsearchError(f"--k must be at least 1, got {k}")
        words = read_vocab(vocab) if isinstance(vocab, str | os.PathLike) else vocab_from_words(vocab)
        key = f"{words.fingerprint}|{CANDIDATE_METHOD}|k={k}|all={all_pairs}|words={word_model}"
        info = {
            "kind": "vocab",
            "source": words.source,
            "fingerprint": hashlib.sha256(key.encode()).hexdigest()[:32],
            "words": len(words.words),
            "duplicates_dropped": words.duplicates,
            "k": None if all_pairs else k,
            "all_pairs": all_pairs,
            "word_model": None if all_pairs else word_model,
            "candidates": "all ordered pairs"
            if all_pairs
            else f"{CANDIDATE_METHOD}: k nearest words by cosine of mean-pooled single-word vectors "
            f"of {_word_model_name(word_model)}, both directions",
        }
        if all_pairs:
            all_pair_ids(len(words.words))  # refuses too large a vocabulary before any model loads
        return BuildInput(info, vocab=words)
    if all_pairs:
        raise RelsearchError("--all-pairs applies to a vocabulary, not to --pairs")
    table = read_pairs_file(pairs) if isinstance(pairs, str | os.PathLike) else pairs_from_list(pairs)
    info = {
        "kind": "pairs",
        "source": table.source,
        "fingerprint": table.fingerprint,
        "rows": table.table.num_rows + table.duplicates,
        "duplicates_dropped": table.duplicates,
        "metadata_columns": table.metadata_columns,
    }
    return BuildInput(info, pairs=table)


def candidate_table(inp: BuildInput, encoder: PairEncoder, k: int, batch_size: int) -> pa.Table:
    """``head``/``tail`` (+ metadata) table, without ids."""
    if inp.pairs is not None:
        return inp.pairs.table
    assert inp.vocab is not None
    words = pa.array(inp.vocab.words, type=pa.string())
    if inp.info["all_pairs"]:
        heads, tails = all_pair_ids(len(words))
    else:
        vectors = word_vectors(
            inp.vocab.words, inp.info["word_model"], encoder, batch_size=max(batch_size, 128)
        )
        heads, tails = knn_pair_ids(vectors, k)
    return pa.table({"head": words.take(pa.array(heads)), "tail": words.take(pa.array(tails))})
