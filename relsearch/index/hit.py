"""``Hit``: one search result (a ranked word pair with its cosine score and metadata)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Keys every JSON hit has; metadata columns with one of these names are written as ``metadata.<name>``.
CORE_KEYS = ("rank", "id", "head", "tail", "score")


def _jsonable(value: Any) -> Any:
    """Parquet values as JSON values (dates, bytes, decimals and the like become strings)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


@dataclass(frozen=True)
class Hit:
    """A word pair found by a search, ``rank`` 1-based, ``score`` the cosine to the query.

    ``id`` is the pair's row in the index (its FAISS id), or None for a pair that was encoded on
    the fly and is not in the index. ``metadata`` holds the pair's other ``pairs.parquet`` columns.

    >>> hit = Hit(rank=1, id=7, head="baker", tail="bread", score=0.91, metadata={"source": "vocab"})
    >>> hit.pair
    ('baker', 'bread')
    >>> hit.to_dict()
    {'rank': 1, 'id': 7, 'head': 'baker', 'tail': 'bread', 'score': 0.91, 'source': 'vocab'}
    """

    rank: int
    id: int | None
    head: str
    tail: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def pair(self) -> tuple[str, str]:
        """``(head, tail)``."""
        return (self.head, self.tail)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the core keys, then the metadata columns flattened beside them."""
        out: dict[str, Any] = {
            "rank": self.rank,
            "id": self.id,
            "head": self.head,
            "tail": self.tail,
            "score": float(self.score),
        }
        for name, value in self.metadata.items():
            out[f"metadata.{name}" if name in CORE_KEYS else name] = _jsonable(value)
        return out
