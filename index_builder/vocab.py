"""Reading a vocabulary: one word or multi-word term per line."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from relsearch.errors import DataFormatError
from relsearch.pairs import PLACEHOLDERS


@dataclass(frozen=True)
class Vocabulary:
    """Distinct words in file order, and how many duplicate lines were dropped."""

    words: list[str]
    duplicates: int
    source: str

    @property
    def fingerprint(self) -> str:
        """Hash of the word list (order matters: it fixes pair order and ids)."""
        return hashlib.sha256("\n".join(self.words).encode("utf-8")).hexdigest()[:32]


def _check_line(line: str, where: str) -> None:
    if "\t" in line:
        raise DataFormatError(
            f"{where} contains a tab; a vocabulary has one word or term per line "
            "(pass a head<TAB>tail file with --pairs instead)"
        )
    bad = next((ch for ch in line if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        raise DataFormatError(f"{where} contains the control character U+{ord(bad):04X}; remove it")
    for placeholder in PLACEHOLDERS:
        if placeholder in line:
            raise DataFormatError(
                f"{where} ({line.strip()!r}) contains the template placeholder {placeholder!r}, "
                "which would corrupt the prompt; remove or rename that word"
            )


def _collect(lines: Iterable[tuple[str, str]], source: str) -> Vocabulary:
    words: dict[str, None] = {}
    duplicates = 0
    for where, raw in lines:
        word = raw.strip()
        if not word or word.startswith("#"):
            continue
        _check_line(raw, where)
        if word in words:
            duplicates += 1
        else:
            words[word] = None
    if not words:
        raise DataFormatError(
            f"the vocabulary {source} holds no words (blank lines and # comments are skipped); "
            "put one word or term per line"
        )
    if len(words) < 2:
        raise DataFormatError(
            f"the vocabulary {source} has only one word ({next(iter(words))!r}); pairs need at least two"
        )
    return Vocabulary(list(words), duplicates, source)


def read_vocab(path: str | Path) -> Vocabulary:
    """Read ``path``: strip each line, skip blanks and ``#`` comments, drop duplicates (counted).

    Raises ``DataFormatError`` naming the line for bytes that are not UTF-8, tabs, control
    characters and template placeholders, and for a file with fewer than two words.
    """
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"vocabulary file {str(path)!r} does not exist")
    if not path.is_file():
        raise DataFormatError(f"vocabulary {str(path)!r} is not a file")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines: list[tuple[str, str]] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataFormatError(
                f"{path} line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                f"{exc.start + 1}); save the file as UTF-8"
            ) from None
        lines.append((f"{path} line {number}", text.removesuffix("\r")))
    return _collect(lines, str(path))


def vocab_from_words(words: Iterable[str], source: str = "the word list") -> Vocabulary:
    """The same rules for words given in Python (errors name the item number)."""
    items: list[tuple[str, str]] = []
    for number, word in enumerate(words, 1):
        if not isinstance(word, str):
            raise DataFormatError(f"item {number} of {source} is not a string: {word!r}")
        items.append((f"item {number} of {source}", word))
    return _collect(items, source)
