"""Analogies A:B :: C:? (or ?:D) by index lookup, and multiple-choice questions without an index.

The answer to A:B :: C:? is the tail of the pair (C, x) whose relation is closest to A:B's. The
candidates are the indexed pairs with head C (for ?:D, with tail D). If the index holds none, the
candidates are (C, w) for every word w of the index, encoded on the fly. As in gensim's
``most_similar``, an answer equal to one of the question's words (A, B, C or D, ignoring case) is
skipped; C and D also match words ignoring case.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from relsearch.errors import InvalidPairError, RelsearchError
from relsearch.index.hit import Hit
from relsearch.index.pair_table import PairTable
from relsearch.pairs import Pair, PairLike, parse_pair, validate_word

UNKNOWN = "?"


def parse_target(target: PairLike, *, sep: str = ":") -> tuple[str | None, str | None]:
    """``"C:?"`` -> ``(C, None)``, ``"?:D"`` -> ``(None, D)``; anything else is an error."""
    head, tail = parse_pair(target, sep=sep)
    if head == UNKNOWN and tail == UNKNOWN:
        raise InvalidPairError(
            f"{target!r} has both sides unknown; give one word, as in 'baker:?' or '?:bread'"
        )
    if UNKNOWN not in (head, tail):
        raise InvalidPairError(
            f"{target!r} has no unknown side; write 'C:?' or '?:D' (to score given pairs use --choices)"
        )
    return (None, tail) if head == UNKNOWN else (head, None)


def check_question(a_b: PairLike, c: str | None, d: str | None) -> tuple[Pair, str | None, str | None]:
    """Validate A:B and exactly one of C, D."""
    pair = parse_pair(a_b)
    if UNKNOWN in pair:
        raise InvalidPairError(f"the known pair {a_b!r} must not contain {UNKNOWN!r}")
    if (c is None) == (d is None):
        raise RelsearchError("give exactly one of c (for A:B :: C:?) or d (for A:B :: ?:D)")
    if c is not None:
        c = validate_word(c, role="head", original=f"{c}:?")
    if d is not None:
        d = validate_word(d, role="tail", original=f"?:{d}")
    return pair, c, d


def indexed_candidates(table: PairTable, pair: Pair, c: str | None, d: str | None) -> np.ndarray:
    """Ids of the indexed pairs (C, x) or (x, D) whose answer x is not a question word."""
    known = {*pair, c, d}
    if c is not None:
        ids, answers = table.ids_with_head(c), table.tail_codes
    else:
        ids, answers = table.ids_with_tail(d or ""), table.head_codes
    skip = [code for w in known if w is not None for code in table.codes(w)]
    return ids[~np.isin(answers[ids], skip)] if len(ids) else ids


def on_the_fly_pairs(table: PairTable, pair: Pair, c: str | None, d: str | None) -> list[Pair]:
    """(C, w) or (w, D) for every word w of the index that is not a question word."""
    known = {w.casefold() for w in (*pair, c, d) if w is not None}
    words = [w for w in table.words if w.casefold() not in known]
    if not words:
        raise RelsearchError("the index has no words besides the question's to try as answers")
    return [(c, w) for w in words] if c is not None else [(w, d) for w in words]  # type: ignore[misc]


def top_hits(
    scores: np.ndarray, pairs: Sequence[Pair], k: int, ids: Sequence[int | None], rows: Sequence[dict]
) -> list[Hit]:
    """The ``k`` best-scoring pairs as ranked hits (ties broken by input order)."""
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    return [
        Hit(rank=r, id=ids[i], head=pairs[i][0], tail=pairs[i][1], score=float(scores[i]), metadata=rows[i])
        for r, i in enumerate(order, 1)
    ]


def rank_choices(stem: np.ndarray, choice_vectors: np.ndarray, choices: Sequence[Pair]) -> list[Hit]:
    """Rank multiple-choice pairs by cosine to the stem; ``metadata["choice"]`` is the 0-based position."""
    scores = choice_vectors @ stem
    rows = [{"choice": i} for i in range(len(choices))]
    return top_hits(scores, choices, len(choices), [None] * len(choices), rows)
