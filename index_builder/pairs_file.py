"""Reading explicit pairs: TSV, CSV or Parquet with head and tail columns, extra columns kept."""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from relsearch.errors import DataFormatError, InvalidPairError
from relsearch.pairs import PairLike, parse_pair, validate_word

SUPPORTED = "TSV (.tsv, .txt), CSV (.csv), optionally gzipped (.gz), or Parquet (.parquet, .pq)"
#: Column names that a first row which is a header (not a pair) often holds.
HEADER_WORDS = frozenset(
    [
        "source",
        "target",
        "word",
        "word1",
        "word2",
        "w1",
        "w2",
        "from",
        "to",
        "subject",
        "object",
        "left",
        "right",
        "first",
        "second",
        "x",
        "y",
        "a",
        "b",
        "term",
        "term1",
        "term2",
        "pair",
        "relation",
        "label",
        "h",
        "t",
        "query",
        "answer",
    ]
)
log = logging.getLogger("relsearch")


@dataclass(frozen=True)
class PairsInput:
    """Validated, deduplicated pairs: a table with ``head``, ``tail`` and metadata columns."""

    table: pa.Table
    duplicates: int
    source: str
    fingerprint: str

    @property
    def metadata_columns(self) -> list[str]:
        return [c for c in self.table.column_names if c not in ("head", "tail")]


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _decode_check(data: bytes, path: Path) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataFormatError(
            f"{path} line {line} is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


def _read_text_table(path: Path, kind: str, data: bytes) -> tuple[pa.Table, int]:
    """Parse TSV/CSV bytes; return the table and how many header lines preceded the data."""
    from pyarrow import csv

    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    sep = "\t" if kind == "tsv" else ","
    names = [f.strip().strip('"').lower() for f in first.split(sep)]
    has_header = "head" in names and "tail" in names
    if kind == "csv" and not has_header:
        raise DataFormatError(
            f"the CSV pairs file {path} needs a header row with 'head' and 'tail' columns "
            f"(its first row is {first[:80]!r}); add one, or save it as a headerless TSV"
        )
    read = csv.ReadOptions(autogenerate_column_names=not has_header)
    parse = csv.ParseOptions(delimiter=sep, quote_char='"' if kind == "csv" else False)
    try:
        table = csv.read_csv(pa.py_buffer(data), read_options=read, parse_options=parse)
    except pa.ArrowInvalid as exc:
        raise DataFormatError(f"cannot read the pairs file {path}: {exc}") from None
    if has_header:
        rename = {c: c.strip().lower() for c in table.column_names if c.strip().lower() in ("head", "tail")}
        table = table.rename_columns([rename.get(c, c) for c in table.column_names])
    else:
        if table.num_columns < 2:
            raise DataFormatError(
                f"the pairs file {path} has one column; expected head<TAB>tail per line "
                "(or a header row naming 'head' and 'tail')"
            )
        names = ["head", "tail"] + [f"column_{i}" for i in range(3, table.num_columns + 1)]
        table = table.rename_columns(names)
        first_fields = [f.strip().lower() for f in first.split(sep)[:2]]
        if len(first_fields) == 2 and all(f in HEADER_WORDS for f in first_fields):
            log.warning(
                "the first row of %s (%r) looks like a header but names no 'head' and 'tail' columns, so it "
                "was read as a pair; name the columns head and tail (or delete the row)",
                path,
                first[:80],
            )
    return table, int(has_header)


def read_pairs_file(path: str | Path) -> PairsInput:
    """Read a pairs file; errors name the file and line (or row) and say how to fix it."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"pairs file {str(path)!r} does not exist")
    kind = {".tsv": "tsv", ".txt": "tsv", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(
        _suffix(path)
    )
    if kind is None:
        raise DataFormatError(f"cannot tell the format of {path} from its name; supported: {SUPPORTED}")
    raw = path.read_bytes()
    fingerprint = hashlib.sha256(raw).hexdigest()[:32]
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataFormatError(f"cannot read the Parquet file {path}: {exc}") from None
        lower = {c.lower(): c for c in table.column_names}
        if "head" not in lower or "tail" not in lower:
            raise DataFormatError(
                f"the Parquet file {path} has no 'head' and 'tail' columns "
                f"(columns: {', '.join(table.column_names) or 'none'})"
            )
        table = table.rename_columns(
            [c.lower() if c.lower() in ("head", "tail") else c for c in table.column_names]
        )
        return _finish(table, str(path), fingerprint, lambda i: f"row {i + 1}")
    data = gzip.decompress(raw) if path.suffix.lower() == ".gz" else raw
    _decode_check(data, path)
    table, header = _read_text_table(path, kind, data)
    return _finish(table, str(path), fingerprint, lambda i: f"line {i + 1 + header}")


def pairs_from_list(pairs: Iterable[PairLike], source: str = "the pair list") -> PairsInput:
    """Pairs given in Python ("head:tail" strings or 2-tuples)."""
    parsed: list[tuple[str, str]] = []
    for number, pair in enumerate(pairs, 1):
        try:
            parsed.append(parse_pair(pair))
        except InvalidPairError as exc:
            raise DataFormatError(f"item {number} of {source}: {exc}") from None
    digest = hashlib.sha256("\n".join(f"{h}\t{t}" for h, t in parsed).encode("utf-8"))
    table = pa.table({"head": [h for h, _ in parsed], "tail": [t for _, t in parsed]})
    return _finish(table, source, digest.hexdigest()[:32], lambda i: f"item {i + 1}")


def _string_column(table: pa.Table, name: str, source: str) -> list[str | None]:
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise DataFormatError(f"the {name!r} column of {source} holds {column.type}, not text")
    return column.to_pylist()


def _finish(table: pa.Table, source: str, fingerprint: str, where: Callable[[int], str]) -> PairsInput:
    heads = _string_column(table, "head", source)
    tails = _string_column(table, "tail", source)
    if not heads:
        raise DataFormatError(f"{source} holds no pairs")
    seen: dict[tuple[str, str], None] = {}
    keep: list[int] = []
    for i, (head, tail) in enumerate(zip(heads, tails, strict=True)):
        try:
            if head is None or tail is None:
                raise InvalidPairError(f"the {'head' if head is None else 'tail'} is empty")
            pair = (
                validate_word(head, role="head", original=f"{head}\t{tail}"),
                validate_word(tail, role="tail", original=f"{head}\t{tail}"),
            )
        except InvalidPairError as exc:
            raise DataFormatError(f"{source} {where(i)}: {exc}") from None
        if pair not in seen:
            seen[pair] = None
            keep.append(i)
    others = table.drop_columns(["head", "tail"])
    if "id" in others.column_names:
        if "source_id" in others.column_names:
            raise DataFormatError(f"{source} has columns 'id' and 'source_id'; rename 'id' (it is reserved)")
        others = others.rename_columns(["source_id" if c == "id" else c for c in others.column_names])
    if len(keep) < len(heads):
        others = others.take(pa.array(keep, type=pa.int64()))
    pairs = list(seen)
    columns = {"head": pa.array([h for h, _ in pairs]), "tail": pa.array([t for _, t in pairs])}
    columns.update({name: others.column(name) for name in others.column_names})
    return PairsInput(pa.table(columns), len(heads) - len(keep), source, fingerprint)
