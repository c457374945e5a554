"""``relsearch analogy``: A:B :: C:? (or ?:D) by index lookup, or a multiple-choice question."""

from __future__ import annotations

from typing import Annotated

import typer

from relsearch.cli.options import DtypeOpt
from relsearch.cli.output import err, handle_errors, out, print_json
from relsearch.cli.query_common import (
    IndexOpt,
    JsonOpt,
    KOpt,
    MmapOpt,
    NoVerifyOpt,
    SepOpt,
    clamp_k,
    hit_table,
)
from relsearch.errors import InvalidPairError, RelsearchError
from relsearch.json_output import analogy_dicts
from relsearch.pairs import Pair, format_pair, parse_pair


def parse_choices(text: str, sep: str) -> list[Pair]:
    """``"c:d,e:f,..."`` -> pairs; at least two."""
    items = [item for item in text.split(",") if item.strip()]
    choices = [parse_pair(item, sep=sep) for item in items]
    if len(choices) < 2:
        raise InvalidPairError(f"--choices {text!r} needs at least two pairs, as in 'c{sep}d,e{sep}f'")
    return choices


def _solve_choices(
    known: str, choices_text: str, model: str | None, dtype: str, sep: str, as_json: bool
) -> None:
    stem = parse_pair(known, sep=sep)
    choices = parse_choices(choices_text, sep)
    from relsearch.encoding import RelationEncoder
    from relsearch.index.analogy_search import rank_choices

    encoder = RelationEncoder(model, dtype=dtype)
    vectors = encoder.encode([stem, *choices])
    hits = rank_choices(vectors[0], vectors[1:], choices)
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    title = f"{format_pair(stem)} is most like"
    out.print(hit_table(title, hits, ["choice"]))


@handle_errors
def analogy(
    known: Annotated[str, typer.Argument(help="The known pair A:B.", metavar="A:B", show_default=False)],
    target: Annotated[
        str | None,
        typer.Argument(help="C:? (find D) or ?:D (find C).", metavar="C:?|?:D", show_default=False),
    ] = None,
    index: IndexOpt = None,
    k: KOpt = 10,
    choices: Annotated[
        str | None,
        typer.Option("--choices", help='Multiple choice without an index: rank "c:d,e:f,..." against A:B.'),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="With --choices: the model (default: relsearch's). Otherwise: where the index's model is, "
            "if not where its manifest says.",
        ),
    ] = None,
    dtype: DtypeOpt = "float32",
    mmap: MmapOpt = False,
    no_verify: NoVerifyOpt = False,
    sep: SepOpt = ":",
    as_json: JsonOpt = False,
) -> None:
    """Solve A:B :: C:? (or ?:D) from the index, or a multiple-choice question.

    The answers are the indexed pairs (C, x) most similar to A:B. If the index has no pair with
    head C (tail D), (C, w) is encoded on the fly for every word w of the index. With --choices,
    rank the given pairs instead (no index needed).
    """
    if choices is not None:
        if target is not None:
            raise typer.BadParameter("give either C:? / ?:D or --choices, not both", param_hint="TARGET")
        _solve_choices(known, choices, model, dtype, sep, as_json)
        return
    if target is None:
        raise typer.BadParameter('give C:? or ?:D (or --choices "c:d,e:f")', param_hint="TARGET")
    from relsearch.index.analogy_search import check_question, on_the_fly_pairs, parse_target
    from relsearch.index.relation_index import RelationIndex, check_k

    c, d = parse_target(target, sep=sep)
    pair, c, d = check_question(parse_pair(known, sep=sep), c, d)
    if k < 1:
        raise RelsearchError(f"-k must be at least 1, got {k}")
    idx = RelationIndex.load(index, mmap=mmap, model=model, verify=not no_verify)
    k = clamp_k(k, len(idx))
    check_k(k, len(idx))
    side = "tail" if c is not None else "head"
    if not idx.has_answers(c, d):
        which = f"head {c!r}" if c is not None else f"tail {d!r}"
        idx.encoder  # noqa: B018  (load it now: a missing model fails before anything is printed)
        n = len(on_the_fly_pairs(idx.table, pair, c, d))
        err.print(
            f"no indexed pair has {which}: encoding {n:,} candidate pairs on the fly with {idx.model_name}",
            markup=False,
        )
    hits = idx.analogy(pair, c=c, d=d, k=k, progress=True)
    if as_json:
        print_json(analogy_dicts(hits, side))
        return
    question = f"{format_pair(pair)} :: {c}:?" if c is not None else f"{format_pair(pair)} :: ?:{d}"
    out.print(hit_table(question, hits, idx.metadata_columns, answer=side))
    if not hits:
        err.print("no answer: every candidate pair repeats a word of the question")
