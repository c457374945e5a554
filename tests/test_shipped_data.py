"""The benchmark files in data/: checksums, and the lexical relation sets parse with their counts."""

from __future__ import annotations

import hashlib

import pytest

from relsearch.default_model import DATA_DIR
from relsearch.evaluation.lexical_relations import load_lexical_relation_data
from relsearch.evaluation.shipped import LEXICAL_RELATION_DATASETS, resolve_lexical_relation_dir


def test_sha256sums_match_every_shipped_benchmark_file():
    listed = {}
    for line in (DATA_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.removeprefix("./")] = digest
    on_disk = {
        str(p.relative_to(DATA_DIR))
        for sub in ("analogy", "lexical_relation")
        for p in (DATA_DIR / sub).rglob("*")
        if p.is_file()
    }
    assert on_disk == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("BLESS", (18582, 1327, 6637)),
        ("CogALexV", (3054, None, 4260)),
        ("EVALution", (5160, 372, 1846)),
        ("K&H+N", (40256, 2876, 14377)),
        ("ROOT09", (8933, 638, 3191)),
    ],
)
def test_lexical_relation_sets_parse_with_published_counts(name, counts):
    display, directory = resolve_lexical_relation_dir(name.lower())
    assert display == name and display in LEXICAL_RELATION_DATASETS
    data = load_lexical_relation_data(display, directory)
    n_val = len(data.val) if data.val is not None else None
    assert (len(data.train), n_val, len(data.test)) == counts


def test_unknown_lexical_relation_set_lists_the_valid_ones():
    from relsearch.errors import DataFormatError

    with pytest.raises(DataFormatError, match="valid: BLESS, CogALexV, EVALution, K&H\\+N, ROOT09"):
        resolve_lexical_relation_dir("WordNet")
    assert resolve_lexical_relation_dir("k_h+n")[0] == "K&H+N"


def test_t_rex_default_test_split_and_its_journal_variant():
    from relsearch.evaluation.analogy import load_analogy_questions
    from relsearch.evaluation.shipped import analogy_path

    default = load_analogy_questions(analogy_path("t_rex", "test"))
    journal = load_analogy_questions(DATA_DIR / "analogy" / "t_rex" / "test.journal2023.jsonl")
    assert analogy_path("t_rex", "test").name == "test.jsonl" and len(default) == len(journal) == 183
    answers = sorted((q.stem, q.choices[q.answer]) for q in default)
    assert answers == sorted((q.stem, q.choices[q.answer]) for q in journal)  # same items, other order
    assert sorted(q.choices for q in default) != sorted(q.choices for q in journal)  # other negatives
