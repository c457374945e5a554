"""The relation pool: analogy questions made from relation-labelled validation pairs."""

from __future__ import annotations

import pytest

from relsearch.errors import DataFormatError
from relsearch.evaluation.relation_pool import relation_pool

ROWS = {
    "hyper": [("dog", "animal"), ("oak", "tree"), ("rose", "flower"), ("car", "vehicle")],
    "mero": [("wheel", "bike"), ("petal", "rose_bush"), ("page", "book")],
    "antonym": [("hot", "cold"), ("up", "down")],
    "random": [("dog", "piano"), ("cloud", "fork"), ("sand", "violin")],
}


def _write(root, name="SET", split="val"):
    folder = root / name
    folder.mkdir(parents=True)
    lines = [f"{h}\t{t}\t{label}" for label, pairs in ROWS.items() for h, t in pairs]
    (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_questions_pair_a_stem_with_its_relation_against_other_relations(tmp_path):
    _write(tmp_path)
    pool = relation_pool(tmp_path, n_choices=4, seed=3)
    questions = pool["SET"]
    # pairs as the pool writes them: a KeyError below if an underscore stayed
    label_of = {(h, t.replace("_", " ")): label for label, ps in ROWS.items() for h, t in ps}
    stems_possible = sum(len(ps) for label, ps in ROWS.items() if label != "random")
    assert 0 < len(questions) <= stems_possible
    for q in questions:
        relation = label_of[q.stem]
        assert relation != "random" and q.prefix == relation and len(q.choices) == 4
        assert label_of[q.choices[q.answer]] == relation and q.choices[q.answer] != q.stem
        assert not set(q.choices[q.answer]) & set(q.stem)
        assert all(label_of[c] != relation for i, c in enumerate(q.choices) if i != q.answer)
    assert relation_pool(tmp_path, n_choices=4, seed=3) == pool  # seeded
    assert len({q.answer for q in questions}) > 1  # the answer's position varies
    assert len(relation_pool(tmp_path, n_choices=4, per_set=2)["SET"]) <= 2


def test_a_pair_of_the_test_split_stays_out_of_the_pool(tmp_path):
    _write(tmp_path)
    full = relation_pool(tmp_path, n_choices=3)
    used = {p for q in full["SET"] for p in (q.stem, *q.choices)}
    assert ("oak", "tree") in used
    (tmp_path / "SET" / "test.tsv").write_text("oak\ttree\thyper\n", encoding="utf-8")
    pool = relation_pool(tmp_path, n_choices=3)
    assert ("oak", "tree") not in {p for q in pool["SET"] for p in (q.stem, *q.choices)}


def test_only_the_asked_split_is_read_and_an_empty_pool_raises(tmp_path):
    _write(tmp_path, split="test")
    with pytest.raises(DataFormatError, match="no relation pool questions"):
        relation_pool(tmp_path)
    assert relation_pool(tmp_path, split="test")["SET"]


def test_the_shipped_pool_is_large():
    from relsearch.evaluation.shipped import LEXICAL_RELATION_DIR

    pool = relation_pool(LEXICAL_RELATION_DIR)
    assert sum(len(qs) for qs in pool.values()) > 1500 and len(pool) >= 4
