"""``relsearch query``: the indexed pairs most relationally similar to given pairs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from relsearch.cli.output import err, handle_errors, out, print_json
from relsearch.cli.query_common import (
    IndexModelOpt,
    IndexOpt,
    JsonOpt,
    KOpt,
    MmapOpt,
    NoVerifyOpt,
    SepOpt,
    clamp_k,
    hit_table,
)
from relsearch.errors import DataFormatError, InvalidPairError, RelsearchError
from relsearch.json_output import hit_dicts, query_result
from relsearch.pairs import Pair, format_pair, parse_pair, validate_word

#: Queries searched per batch when reading them from a file.
BATCH = 256


def read_pairs_file(path: Path, sep: str) -> list[Pair]:
    """Pairs from a file (``-`` for stdin), one per line as ``head:tail`` or ``head<TAB>tail``.

    Blank lines and lines starting with ``#`` are skipped.
    """
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFormatError(f"query file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"cannot read query file {str(path)!r}: {exc}") from exc
    pairs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            pairs.append(parse_pair(tuple(line.split("\t")) if "\t" in line else line, sep=sep))
        except InvalidPairError as exc:
            raise InvalidPairError(f"{path}:{lineno}: {exc}") from None
    if not pairs:
        raise DataFormatError(f"query file {str(path)!r} holds no pairs (one 'head{sep}tail' per line)")
    return pairs


def _chunks(items: list[Pair], size: int) -> Iterator[list[Pair]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@handle_errors
def query(
    pairs: Annotated[
        list[str] | None,
        typer.Argument(help="Query pairs as head:tail (escape a literal ':' as '\\:').", metavar="PAIR"),
    ] = None,
    index: IndexOpt = None,
    k: KOpt = 10,
    allow_overlap: Annotated[
        bool, typer.Option("--allow-overlap", help="Keep the query pair and pairs sharing a word with it.")
    ] = False,
    head: Annotated[str | None, typer.Option("--head", help="Only pairs with this head.")] = None,
    tail: Annotated[str | None, typer.Option("--tail", help="Only pairs with this tail.")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", "-f", help="Read query pairs from a file, one per line ('-': stdin)."),
    ] = None,
    model: IndexModelOpt = None,
    mmap: MmapOpt = False,
    no_verify: NoVerifyOpt = False,
    sep: SepOpt = ":",
    as_json: JsonOpt = False,
) -> None:
    """The indexed pairs most relationally similar to PAIR (barista:coffee -> baker:bread, ...).

    One query with --json prints a JSON array of hits; several queries (or --from-file) print one
    JSON line per query: {"query": "a:b", "hits": [...]}.
    """
    queries = [parse_pair(p, sep=sep) for p in pairs or []]
    if from_file is not None:
        queries += read_pairs_file(from_file, sep)
    if not queries:
        raise typer.BadParameter("give at least one PAIR or --from-file FILE", param_hint="PAIR")
    if k < 1:
        raise RelsearchError(f"-k must be at least 1, got {k}")
    head = None if head is None else validate_word(head, role="--head", original=head)
    tail = None if tail is None else validate_word(tail, role="--tail", original=tail)
    from relsearch.index.relation_index import RelationIndex, check_k

    idx = RelationIndex.load(index, mmap=mmap, model=model, verify=not no_verify)
    k = clamp_k(k, len(idx))
    check_k(k, len(idx))
    for role, word in (("head", head), ("tail", tail)):
        if word is not None and not len(
            idx.table.ids_with_head(word) if role == "head" else idx.table.ids_with_tail(word)
        ):
            raise RelsearchError(
                f"no pair in the index has the {role} {word!r} (--{role} matches whole words, ignoring case)"
            )
    new = [q for q in queries if q not in idx]
    if new:
        idx.encoder  # noqa: B018  (load it now: a missing model fails before anything is printed)
        err.print(
            f"{len(new)} query pair(s) not in the index (e.g. {format_pair(new[0])}); "
            f"encoding with {idx.model_name}",
            markup=False,
        )
    lines = from_file is not None or len(queries) > 1
    for chunk in _chunks(queries, BATCH):
        results = idx.search_batch(chunk, k, allow_overlap=allow_overlap, head=head, tail=tail)
        for pair, hits in zip(chunk, results, strict=True):
            if as_json:
                print_json(query_result(pair, hits) if lines else hit_dicts(hits))
                continue
            out.print(hit_table(f"pairs like {format_pair(pair)}", hits, idx.metadata_columns))
            if len(hits) < k:
                err.print(_why_fewer(pair, len(hits), k, head, tail, allow_overlap), markup=False)


def _why_fewer(
    pair: Pair, found: int, k: int, head: str | None, tail: str | None, allow_overlap: bool
) -> str:
    """Why fewer than ``k`` hits came back: the filters, and which one."""
    text = f"only {found} of the {k} pair(s) asked for pass the filters for {format_pair(pair)}"
    if allow_overlap:
        return text
    query_words = {w.casefold() for w in pair}
    for role, word in (("head", head), ("tail", tail)):
        if word is not None and word.casefold() in query_words:
            return (
                f"{text}: every pair with the {role} {word!r} shares that word with the query and is left "
                "out (--allow-overlap keeps them)"
            )
    return f"{text} (pairs sharing a word with the query are left out; --allow-overlap keeps them)"
