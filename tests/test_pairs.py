"""Pair parsing and validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relsearch import InvalidPairError, format_pair, parse_pair

WORD = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=12
).filter(lambda w: not any(p in w for p in ("<subj>", "<obj>", "<mask>")))


@given(WORD, WORD)
def test_format_then_parse_round_trips(head, tail):
    assert parse_pair(format_pair((head, tail))) == (head, tail)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("barista:coffee", ("barista", "coffee")),
        (" barista : coffee ", ("barista", "coffee")),
        ("café:crème brûlée", ("café", "crème brûlée")),
        ("ratio:a\\:b", ("ratio", "a:b")),
        (("new york", "city"), ("new york", "city")),
    ],
)
def test_valid_pairs(text, expected):
    assert parse_pair(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("barista-coffee", "no separator"),
        (":coffee", "empty head"),
        ("barista:", "empty tail"),
        ("a:b:c", "more than one"),
        ("<mask>:b", "placeholder"),
        ("a:x<subj>", "placeholder"),
        ("a:<obj>", "placeholder"),
        ("a\tb:c", "control character"),
        (("a", "b", "c"), "exactly two"),
        (42, "cannot read"),
    ],
)
def test_invalid_pairs_name_the_value(text, fragment):
    with pytest.raises(InvalidPairError) as info:
        parse_pair(text)
    assert fragment in str(info.value)


def test_custom_separator():
    assert parse_pair("a::b|c", sep="|") == ("a::b", "c")
