"""``PairTable``: the pairs of an index (``pairs.parquet``) with cheap lookups in both directions.

Words are interned: every distinct head or tail gets an integer code, and the pairs are held as
two int32 code arrays plus, for each word, the ids of the pairs it heads (or tails). So
"which id has the pair (h, t)", "which ids share a word with (h, t)" and "which ids have head h"
cost a dict lookup and a slice, not a scan over the rows, and no per-pair Python object is kept.

Pair lookup is exact (a cased model gives "Paris:France" and "paris:france" different vectors);
word matching (shared words, head/tail filters, analogy candidates) ignores case: "paris" matches
"Paris" and "PARIS".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relsearch.errors import DamagedFileError, IndexFormatError
from relsearch.pairs import Pair
from relsearch.storage.checksums import FileRecord
from relsearch.storage.pairs_parquet import read_pairs, schema_info

#: Columns every ``pairs.parquet`` has; the others are metadata.
KEY_COLUMNS = ("id", "head", "tail")


class _Groups:
    """Ids grouped by a code: ``ids(c)`` is the sorted ids whose code is ``c``."""

    def __init__(self, codes: np.ndarray, n_codes: int) -> None:
        self.order = np.argsort(codes, kind="stable")
        self.starts = np.zeros(n_codes + 1, dtype=np.int64)
        np.cumsum(np.bincount(codes, minlength=n_codes), out=self.starts[1:])

    def ids(self, code: int) -> np.ndarray:
        return self.order[self.starts[code] : self.starts[code + 1]]


def _string_column(table: pa.Table, name: str, path: Path) -> pa.Array:
    column = table[name]
    if column.null_count:
        raise IndexFormatError(f"{path}: column {name!r} has {column.null_count} empty value(s); rebuild it")
    try:
        return column.combine_chunks().cast(pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise IndexFormatError(f"{path}: column {name!r} is {column.type}, expected strings") from exc


class PairTable:
    """The index's pairs: ``pair_id``, ``ids_with_head``/``tail``, ``overlap_ids``, ``pairs``, ``rows``."""

    def __init__(self, table: pa.Table, path: Path) -> None:
        missing = [c for c in KEY_COLUMNS if c not in table.column_names]
        if missing:
            raise IndexFormatError(f"{path} lacks column(s) {', '.join(missing)}; rebuild the index")
        self.path = path
        self.n = table.num_rows
        ids = table["id"].to_numpy()
        if not np.array_equal(ids, np.arange(self.n)):
            raise IndexFormatError(f"{path}: column 'id' is not the row number 0..{self.n - 1}; rebuild it")
        head = _string_column(table, "head", path)
        tail = _string_column(table, "tail", path)
        words = pc.unique(pa.concat_arrays([head, tail]))
        self.words: list[str] = words.to_pylist()
        self._codes: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        self._folded: dict[str, list[int]] = {}
        for i, w in enumerate(self.words):
            self._folded.setdefault(w.casefold(), []).append(i)
        self.head_codes = pc.index_in(head, value_set=words).to_numpy().astype(np.int32)
        self.tail_codes = pc.index_in(tail, value_set=words).to_numpy().astype(np.int32)
        self._by_head = _Groups(self.head_codes, len(self.words))
        self._by_tail = _Groups(self.tail_codes, len(self.words))
        self.metadata_columns = [c for c in table.column_names if c not in KEY_COLUMNS]
        self._metadata = table.select(self.metadata_columns)
        self.schema_info: dict[str, Any] = schema_info(table)

    @classmethod
    def read(
        cls, path: str | Path, *, record: FileRecord | None = None, memory_map: bool = False
    ) -> PairTable:
        """Read ``pairs.parquet``, checked against ``record``; ``IndexFormatError`` if it is damaged
        or malformed. (The file is always memory-mapped while it is read; ``memory_map`` is kept
        for callers that pass it.)"""
        path = Path(path)
        try:
            table = read_pairs(path, record)
        except DamagedFileError as exc:
            raise exc.at(path.parent) from None
        return cls(table, path)

    def __len__(self) -> int:
        return self.n

    # -- words and pairs -> ids ----------------------------------------------------------------
    def code(self, word: str) -> int | None:
        """The exact word's code, or None if no pair in the index uses it."""
        return self._codes.get(word)

    def codes(self, word: str) -> list[int]:
        """Codes of every indexed word equal to ``word`` ignoring case."""
        return self._folded.get(word.casefold(), [])

    def _ids(self, groups: _Groups, word: str) -> np.ndarray:
        parts = [groups.ids(code) for code in self.codes(word)]
        if len(parts) == 1:
            return parts[0]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def ids_with_head(self, word: str) -> np.ndarray:
        """Ids (ascending) of the pairs whose head is ``word`` (ignoring case)."""
        return self._ids(self._by_head, word)

    def ids_with_tail(self, word: str) -> np.ndarray:
        """Ids (ascending) of the pairs whose tail is ``word`` (ignoring case)."""
        return self._ids(self._by_tail, word)

    def pair_id(self, pair: Pair) -> int | None:
        """The id of ``(head, tail)``, or None if it is not in the index."""
        head = self._codes.get(pair[0])
        tail = self._codes.get(pair[1])
        if head is None or tail is None:
            return None
        candidates = self._by_head.ids(head)
        found = candidates[self.tail_codes[candidates] == tail]
        return int(found[0]) if len(found) else None

    def overlap_ids(self, pair: Pair) -> np.ndarray:
        """Sorted ids of every pair sharing a word (ignoring case) with ``pair``, itself included."""
        words = {w.casefold() for w in pair}
        parts = [group(word) for word in words for group in (self.ids_with_head, self.ids_with_tail)]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    # -- ids -> pairs and rows ---------------------------------------------------------------------
    def pair(self, idx: int) -> Pair:
        return (self.words[self.head_codes[idx]], self.words[self.tail_codes[idx]])

    def pairs(self, ids: np.ndarray | list[int]) -> list[Pair]:
        """``(head, tail)`` of each id, in order."""
        return [self.pair(int(i)) for i in ids]

    def rows(self, ids: np.ndarray | list[int]) -> list[dict[str, Any]]:
        """The metadata columns of each id, in order (empty dicts if there are none)."""
        if not self.metadata_columns:
            return [{} for _ in ids]
        return self._metadata.take(pa.array(np.asarray(ids, dtype=np.int64))).to_pylist()
