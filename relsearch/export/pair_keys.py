"""Word2vec keys for pairs: ``head__tail``, as RelBERT hands out its pair vectors (``Tokyo__Japan``).

A word2vec key cannot hold a space, so whitespace inside a word becomes ``_`` (``new york`` ->
``new_york``). A key must also split back into its pair at its one ``__``, so a pair is left out
(and counted) when a word holds ``__``, starts or ends with ``_``, or when its key equals the key
of a pair with a lower id (``new york:city`` and ``new_york:city``). The Parquet export keeps
every pair with its exact words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from relsearch.pairs import Pair

SEPARATOR = "__"


def word_key(word: str) -> str:
    """``word`` with each run of whitespace replaced by ``_``."""
    return "_".join(word.split())


def pair_key(pair: Pair) -> str | None:
    """``head__tail``, or None if that key could not be split back into the pair."""
    head, tail = (word_key(w) for w in pair)
    for word in (head, tail):
        if SEPARATOR in word or word.startswith("_") or word.endswith("_"):
            return None
    return f"{head}{SEPARATOR}{tail}"


@dataclass
class KeyPlan:
    """The key of every pair id that is exported (``keys[i]`` None: pair ``i`` is left out)."""

    keys: list[str | None]
    ambiguous: list[Pair] = field(default_factory=list)
    duplicates: list[Pair] = field(default_factory=list)

    @property
    def written(self) -> int:
        return len(self.keys) - len(self.ambiguous) - len(self.duplicates)


def plan_keys(pairs: Iterable[Pair]) -> KeyPlan:
    """Keys for ``pairs`` in id order; the first pair with a key keeps it."""
    plan = KeyPlan(keys=[])
    seen: set[str] = set()
    for pair in pairs:
        key = pair_key(pair)
        if key is None:
            plan.ambiguous.append(pair)
        elif key in seen:
            plan.duplicates.append(pair)
            key = None
        else:
            seen.add(key)
        plan.keys.append(key)
    return plan
