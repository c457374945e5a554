"""``SearchService``: what the HTTP API does with an index, without the web framework.

One loaded :class:`RelationIndex` answers every request, one request at a time (a lock: the
encoder and the lazily opened shards are not shared between threads). The model is loaded by
the first request with a pair that the index lacks. Every method validates its input with the
same parsers as the CLI, returns the same JSON objects as ``--json`` (:mod:`relsearch.json_output`)
and raises ``RelsearchError`` for bad input.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from relsearch.errors import RelsearchError
from relsearch.index.analogy_search import check_question
from relsearch.index.hit import Hit
from relsearch.index.relation_index import RelationIndex, check_k
from relsearch.json_output import analogy_dicts, hit_dicts, index_info, query_result
from relsearch.pairs import Pair, format_pair, parse_pair, validate_word
from relsearch.server.projection import pca_2d
from relsearch.server.schemas import MAX_BATCH, MAX_K, MAX_PROJECTION


class UnknownWordError(RelsearchError):
    """A word the request needs in the index (a head/tail filter, an analogy's C or D) that no
    indexed pair has."""


class SearchService:
    """Query, analogy, projection, info and health over one index."""

    def __init__(self, index: RelationIndex) -> None:
        self.index = index
        self._lock = threading.Lock()

    @property
    def model_loaded(self) -> bool:
        """Whether the index's encoder is loaded (RelationIndex loads it on first use)."""
        return getattr(self.index, "_encoder", None) is not None

    def _check_k(self, k: int) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise RelsearchError(f"k={k!r} is out of range; use 1 <= k <= {MAX_K}")
        check_k(k, len(self.index))

    def _filter_word(self, word: str | None, role: str) -> str | None:
        """A valid head/tail filter that some indexed pair matches (as ``relsearch query`` checks)."""
        if word is None:
            return None
        word = validate_word(word, role=f"{role} filter", original=word)
        table = self.index.table
        if not len(table.ids_with_head(word) if role == "head" else table.ids_with_tail(word)):
            raise UnknownWordError(
                f"no pair in the index has the {role} {word!r} ({role} matches whole words, ignoring case)"
            )
        return word

    def _search(
        self,
        pairs: Sequence[str],
        k: int,
        head: str | None = None,
        tail: str | None = None,
        allow_overlap: bool = False,
    ) -> tuple[list[Pair], list[list[Hit]]]:
        if not 1 <= len(pairs) <= MAX_BATCH:
            raise RelsearchError(f"give 1 to {MAX_BATCH} query pairs, got {len(pairs)}")
        parsed = [parse_pair(p) for p in pairs]
        self._check_k(k)
        head = self._filter_word(head, "head")
        tail = self._filter_word(tail, "tail")
        with self._lock:
            results = self.index.search_batch(parsed, k, allow_overlap=allow_overlap, head=head, tail=tail)
        return parsed, results

    def query(self, pair: str, k: int = 10, **filters: Any) -> list[dict[str, Any]]:
        """The hits of one pair, as ``relsearch query PAIR --json`` prints them.

        ``filters``: ``head``, ``tail``, ``allow_overlap`` as in :meth:`RelationIndex.search`.
        """
        return hit_dicts(self._search([pair], k, **filters)[1][0])

    def query_batch(self, pairs: Sequence[str], k: int = 10, **filters: Any) -> list[dict[str, Any]]:
        """``{"query", "hits"}`` per pair, as ``relsearch query A B --json`` prints its lines."""
        parsed, results = self._search(pairs, k, **filters)
        return [query_result(p, hits) for p, hits in zip(parsed, results, strict=True)]

    def analogy(
        self, ab: str, c: str | None = None, d: str | None = None, k: int = 10
    ) -> list[dict[str, Any]]:
        """A:B :: C:? (``c``) or A:B :: ?:D (``d``), as ``relsearch analogy --json`` prints it.

        Only indexed pairs answer: a C (D) that heads (tails) no indexed pair is an
        ``UnknownWordError``, where the CLI would encode a candidate for every word of the index
        (seconds to minutes: too much for one request).
        """
        pair, c, d = check_question(ab, c, d)
        self._check_k(k)
        if not self.index.has_answers(c, d):
            which = f"head {c!r}" if c is not None else f"tail {d!r}"
            raise UnknownWordError(
                f"no indexed pair has {which}; the server answers analogies from indexed pairs only "
                "(`relsearch analogy` encodes candidates on the fly)"
            )
        with self._lock:
            hits = self.index.analogy(pair, c=c, d=d, k=k)
        return analogy_dicts(hits, "tail" if c is not None else "head")

    def projection(self, pairs: Sequence[str]) -> dict[str, Any]:
        """The pairs' relation vectors on their first two principal axes (query first, then hits)."""
        if not 1 <= len(pairs) <= MAX_PROJECTION:
            raise RelsearchError(f"give 1 to {MAX_PROJECTION} pairs to project, got {len(pairs)}")
        parsed = [parse_pair(p) for p in pairs]
        with self._lock:
            vectors = self.index.vectors(parsed)
        coords, ratios = pca_2d(vectors)
        points = [
            {"pair": format_pair(p), "head": p[0], "tail": p[1], "x": float(x), "y": float(y)}
            for p, (x, y) in zip(parsed, coords, strict=True)
        ]
        return {"points": points, "explained_variance_ratio": ratios}

    def info(self) -> dict[str, Any]:
        """As ``relsearch info --json`` prints it."""
        return index_info(self.index.path, self.index.manifest)

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "pairs": len(self.index), "model_loaded": self.model_loaded}
