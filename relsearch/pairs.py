"""Parsing and validating word pairs ("head:tail" strings or (head, tail) tuples)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from relsearch.errors import InvalidPairError

Pair = tuple[str, str]
PairLike = Pair | Sequence[str] | str

DEFAULT_SEP = ":"
PLACEHOLDERS = ("<subj>", "<obj>", "<mask>")


def _split_escaped(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep``, treating ``\\<sep>`` as a literal separator and ``\\\\`` as ``\\``."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and (text.startswith(sep, i + 1) or text[i + 1] == "\\"):
            nxt = sep if text.startswith(sep, i + 1) else "\\"
            current.append(nxt)
            i += 1 + len(nxt)
        elif text.startswith(sep, i):
            parts.append("".join(current))
            current = []
            i += len(sep)
        else:
            current.append(text[i])
            i += 1
    parts.append("".join(current))
    return parts


def validate_word(word: str, *, role: str, original: object) -> str:
    """Strip ``word`` and reject empty words, control characters and template placeholders."""
    if not isinstance(word, str):
        raise InvalidPairError(f"{role} of pair {original!r} must be a string, got {type(word).__name__}")
    word = word.strip()
    if not word:
        raise InvalidPairError(f"pair {original!r} has an empty {role}; expected 'head:tail'")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in word):
        raise InvalidPairError(f"{role} {word!r} of pair {original!r} contains a control character")
    for placeholder in PLACEHOLDERS:
        if placeholder in word:
            raise InvalidPairError(
                f"{role} {word!r} contains the template placeholder {placeholder!r}, "
                "which would corrupt the prompt"
            )
    return word


def parse_pair(pair: PairLike, *, sep: str = DEFAULT_SEP) -> Pair:
    """Return a validated ``(head, tail)`` from ``"head:tail"`` or a 2-sequence.

    A literal separator inside a word is written ``\\:`` (or choose another ``sep``).

    >>> parse_pair("barista:coffee")
    ('barista', 'coffee')
    >>> parse_pair("ratio:a\\\\:b")
    ('ratio', 'a:b')
    """
    if isinstance(pair, str):
        if not sep:
            raise InvalidPairError("the pair separator must not be empty")
        parts = _split_escaped(pair, sep)
        if len(parts) == 1:
            raise InvalidPairError(
                f"pair {pair!r} has no separator {sep!r}; expected 'head{sep}tail', e.g. 'barista{sep}coffee'"
            )
        if len(parts) > 2:
            raise InvalidPairError(
                f"pair {pair!r} has more than one {sep!r}; escape a literal one as '\\{sep}' "
                "or choose another separator (--sep)"
            )
        head, tail = parts
    elif isinstance(pair, Sequence) and not isinstance(pair, bytes | bytearray):
        if len(pair) != 2:
            raise InvalidPairError(f"pair {pair!r} must have exactly two words, got {len(pair)}")
        head, tail = pair[0], pair[1]
    else:
        raise InvalidPairError(f"cannot read a pair from {pair!r}; expected 'head:tail' or (head, tail)")
    return (
        validate_word(head, role="head", original=pair),
        validate_word(tail, role="tail", original=pair),
    )


def parse_pairs(pairs: Iterable[PairLike], *, sep: str = DEFAULT_SEP) -> list[Pair]:
    """Parse every pair; the error names the first bad one."""
    return [parse_pair(p, sep=sep) for p in pairs]


def format_pair(pair: Pair, *, sep: str = DEFAULT_SEP) -> str:
    """Inverse of :func:`parse_pair`: escape separators inside words."""

    def esc(word: str) -> str:
        return word.replace("\\", "\\\\").replace(sep, "\\" + sep)

    return f"{esc(pair[0])}{sep}{esc(pair[1])}"
