"""Pairs files: TSV (with or without header), CSV, Parquet; metadata kept; clear errors."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from index_builder.pairs_file import pairs_from_list, read_pairs_file
from relsearch.errors import DataFormatError


def test_headerless_tsv_keeps_extra_columns_and_drops_duplicates(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text(
        "barista\tcoffee\tjob\t1\n baker \tbread\tjob\t2\nbarista\tcoffee\tdup\t3\nNA\tnull\tx\t4\n"
    )
    got = read_pairs_file(path)
    assert got.table.column_names == ["head", "tail", "column_3", "column_4"]
    assert got.table.column("head").to_pylist() == ["barista", "baker", "NA"]
    assert got.table.column("tail").to_pylist() == ["coffee", "bread", "null"]
    assert got.table.column("column_4").to_pylist() == [1, 2, 4]
    assert got.duplicates == 1 and got.metadata_columns == ["column_3", "column_4"]


def test_tsv_with_header_csv_gzip_and_parquet_agree(tmp_path):
    rows = [("barista", "coffee", "occupation"), ("king", "queen", "gender")]
    tsv = tmp_path / "p.tsv"
    tsv.write_text("Head\tTail\trelation\n" + "".join(f"{h}\t{t}\t{r}\n" for h, t, r in rows))
    csv = tmp_path / "p.csv"
    csv.write_text("relation,head,tail\n" + "".join(f'{r},"{h}",{t}\n' for h, t, r in rows))
    gz = tmp_path / "p.tsv.gz"
    gz.write_bytes(gzip.compress(tsv.read_bytes()))
    parquet = tmp_path / "p.parquet"
    columns = {"head": [r[0] for r in rows], "tail": [r[1] for r in rows], "id": [7, 9]}
    pq.write_table(pa.table(columns), parquet)
    for path in (tsv, csv, gz):
        got = read_pairs_file(path)
        assert got.table.column("head").to_pylist() == ["barista", "king"]
        assert got.table.column("relation").to_pylist() == ["occupation", "gender"]
    got = read_pairs_file(parquet)
    assert got.table.column_names == ["head", "tail", "source_id"]  # 'id' is reserved for row ids
    assert read_pairs_file(tsv).fingerprint != read_pairs_file(csv).fingerprint


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("p.tsv", b"barista\ncoffee\n", "has one column"),
        ("p.csv", b"a,b\nbarista,coffee\n", "needs a header row with 'head' and 'tail'"),
        ("p.tsv", b"barista\tcoffee\nbaker\tbr\xffead\n", r"line 2 is not valid UTF-8"),
        ("p.tsv", b"barista\tcoffee\nbaker\t<mask>\n", r"line 2: .*placeholder '<mask>'"),
        ("p.tsv", b"head\ttail\nbarista\tcoffee\nbaker\t \n", r"line 3: .*empty tail"),
        ("p.tsv", b"barista\tcoffee\tx\nbaker\n", "cannot read the pairs file"),
        ("p.tsv", b"", "holds no pairs|cannot read"),
        ("p.json", b"{}", "cannot tell the format"),
        ("p.parquet", b"not parquet", "cannot read the Parquet file"),
    ],
)
def test_bad_pairs_files(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataFormatError, match=message):
        read_pairs_file(path)


def test_parquet_without_usable_columns(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"a": ["x"], "b": ["y"]}), path)
    with pytest.raises(DataFormatError, match="no 'head' and 'tail' columns"):
        read_pairs_file(path)
    pq.write_table(pa.table({"head": [1], "tail": [2]}), path)
    with pytest.raises(DataFormatError, match="holds int64, not text"):
        read_pairs_file(path)


def test_missing_file_and_python_lists():
    with pytest.raises(DataFormatError, match="does not exist"):
        read_pairs_file("/nonexistent/pairs.tsv")
    got = pairs_from_list(["barista:coffee", ("baker", "bread"), "barista:coffee"])
    assert got.table.num_rows == 2 and got.duplicates == 1
    with pytest.raises(DataFormatError, match=r"item 2 .*no separator"):
        pairs_from_list(["a:b", "ab"])
