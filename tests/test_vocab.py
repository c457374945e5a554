"""Vocabulary parsing: stripping, comments, duplicates, and one clear error per bad input."""

from __future__ import annotations

import pytest

from index_builder.vocab import read_vocab, vocab_from_words
from relsearch.errors import DataFormatError


def write(tmp_path, data: bytes):
    path = tmp_path / "vocab.txt"
    path.write_bytes(data)
    return path


def test_strips_skips_comments_and_counts_duplicates(tmp_path):
    text = "\ufeff# header\n baker \n\nbread\r\nice cream\nbaker\n  # indented comment\nbread\n"
    path = write(tmp_path, text.encode())
    vocab = read_vocab(path)
    assert vocab.words == ["baker", "bread", "ice cream"]
    assert vocab.duplicates == 2
    assert vocab.fingerprint == vocab_from_words(["baker", "bread", "ice cream"]).fingerprint
    assert vocab.fingerprint != vocab_from_words(["bread", "baker", "ice cream"]).fingerprint


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "holds no words"),
        (b"# only a comment\n\n   \n", "holds no words"),
        (b"baker\n", "only one word"),
        (b"baker\nbaker\n", "only one word"),
        (b"baker\nbr\xffead\n", r"line 2 is not valid UTF-8 \(byte 0xff"),
        (b"baker\tbread\nwine\n", "line 1 contains a tab"),
        (b"baker\nbread\x07\n", "line 2 contains the control character U\\+0007"),
        (b"baker\nbread\n<mask> maker\n", "line 3 .*placeholder '<mask>'"),
        (b"a\n<subj>\n", "placeholder '<subj>'"),
    ],
)
def test_bad_vocabularies(tmp_path, data, message):
    with pytest.raises(DataFormatError, match=message):
        read_vocab(write(tmp_path, data))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataFormatError, match="does not exist"):
        read_vocab(tmp_path / "nope.txt")
    with pytest.raises(DataFormatError, match="not a file"):
        read_vocab(tmp_path)


def test_word_list_errors_name_the_item():
    with pytest.raises(DataFormatError, match=r"item 2 .*tab"):
        vocab_from_words(["a", "b\tc"])
    with pytest.raises(DataFormatError, match=r"item 1 .*not a string"):
        vocab_from_words([3, "b"])  # type: ignore[list-item]
