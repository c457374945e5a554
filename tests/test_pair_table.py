"""PairTable: pair and word lookups over a real Parquet file."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from relsearch.errors import IndexFormatError
from relsearch.index.pair_table import PairTable

PAIRS = [("a", "b"), ("b", "c"), ("c", "a"), ("a", "c"), ("d", "e"), ("B", "f")]


@pytest.fixture()
def table(tmp_path) -> PairTable:
    path = tmp_path / "pairs.parquet"
    pq.write_table(
        pa.table(
            {
                "id": np.arange(len(PAIRS)),
                "head": [h for h, _ in PAIRS],
                "tail": [t for _, t in PAIRS],
                "source": ["x", "y", "z", "w", "v", "u"],
            }
        ),
        path,
    )
    return PairTable.read(path)


def test_lookups(table):
    assert len(table) == 6 and sorted(table.words) == ["B", "a", "b", "c", "d", "e", "f"]
    assert [table.pair_id(p) for p in PAIRS] == [0, 1, 2, 3, 4, 5]
    assert table.pair_id(("b", "a")) is None and table.pair_id(("zz", "a")) is None
    assert table.pair_id(("b", "f")) is None and table.pair_id(("A", "b")) is None  # pairs: exact
    assert table.ids_with_head("a").tolist() == [0, 3]
    assert table.ids_with_tail("c").tolist() == [1, 3]
    assert table.ids_with_head("zz").tolist() == []
    assert table.ids_with_head("b").tolist() == [1, 5] == table.ids_with_head("B").tolist()  # words: any case
    assert table.overlap_ids(("a", "b")).tolist() == [0, 1, 2, 3, 5]
    assert table.overlap_ids(("D", "q")).tolist() == [4]
    assert table.pairs([4, 0]) == [("d", "e"), ("a", "b")]
    assert table.metadata_columns == ["source"]
    assert table.rows([2, 0]) == [{"source": "z"}, {"source": "x"}]


@pytest.mark.parametrize(
    "columns, message",
    [
        ({"id": [0, 1], "head": ["a", "b"]}, "lacks column(s) tail"),
        ({"id": [0, 2], "head": ["a", "b"], "tail": ["b", "c"]}, "not the row number"),
        ({"id": [0, 1], "head": ["a", None], "tail": ["b", "c"]}, "empty value"),
    ],
)
def test_malformed_tables(tmp_path, columns, message):
    path = tmp_path / "pairs.parquet"
    pq.write_table(pa.table(columns), path)
    with pytest.raises(IndexFormatError, match=re.escape(message)):
        PairTable.read(path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "pairs.parquet"
    path.write_bytes(b"not parquet")
    with pytest.raises(IndexFormatError, match="not a readable Parquet file"):
        PairTable.read(path)
