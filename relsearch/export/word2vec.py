"""Pair vectors in word2vec format, keyed ``head__tail`` (see :mod:`relsearch.export.pair_keys`).

Text: a ``"<count> <dim>"`` line, then one ``key v1 v2 ...`` line per pair (6 significant
digits, more than the float16 vectors hold). Binary (``binary=True``): the same header line, then
per pair the UTF-8 key, a space, ``dim`` little-endian float32 and a newline, as the original
word2vec tool writes it. Both load with gensim's ``KeyedVectors.load_word2vec_format``.
"""

from __future__ import annotations

from pathlib import Path

from relsearch.export.output_file import check_output, replaced_on_success
from relsearch.export.pair_keys import plan_keys
from relsearch.export.report import ExportReport
from relsearch.export.vector_chunks import CHUNK, vector_chunks
from relsearch.index.relation_index import RelationIndex
from relsearch.progress import progress_bar


def export_word2vec(
    index: RelationIndex,
    out: str | Path,
    *,
    binary: bool = False,
    overwrite: bool = False,
    progress: bool = False,
) -> ExportReport:
    """Write every pair of ``index`` that has a key to ``out``; ``progress`` draws a bar on stderr."""
    out = Path(out)
    check_output(out, overwrite)
    plan = plan_keys(index.table.pairs(range(len(index))))
    row_format = " ".join(["%.6g"] * index.dim)
    with (
        replaced_on_success(out) as tmp,
        open(tmp, "wb") as fh,
        progress_bar(len(index), f"exporting {out.name}", enabled=progress) as advance,
    ):
        fh.write(f"{plan.written} {index.dim}\n".encode())
        for start, _pairs, vectors in vector_chunks(index, CHUNK):
            keys = plan.keys[start : start + len(vectors)]
            if binary:
                little = vectors.astype("<f4", copy=False)
                fh.write(
                    b"".join(
                        key.encode() + b" " + row.tobytes() + b"\n"
                        for key, row in zip(keys, little, strict=True)
                        if key is not None
                    )
                )
            else:
                lines = (
                    f"{key} {row_format % tuple(row.tolist())}\n"
                    for key, row in zip(keys, vectors, strict=True)
                    if key is not None
                )
                fh.write("".join(lines).encode())
            advance(len(vectors))
    fmt = "word2vec binary" if binary else "word2vec text"
    return ExportReport(out, fmt, plan.written, index.dim, plan.ambiguous + plan.duplicates)
