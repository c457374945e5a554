"""Regenerate ``data/vocab.txt``, the default vocabulary of ``relsearch build-index``.

Needs wordfreq 3.1.1 (``pip install -e ".[vocab]"``; install.sh does it) and the shared data folder
(``$RELSEARCH_SHARED`` or ``../shared`` beside the repository). Run from the repository root:
``python data/make_vocab.py [SIZE [OUT]] [--all-words]`` (defaults: 2000, data/vocab.txt;
``--all-words`` keeps words outside the curated relation data, for large vocabularies). See
data/README-vocab.md for the recipe and the licences.
"""

from __future__ import annotations

import csv
import glob
import os
import re
import sys
from pathlib import Path

SIZE = 2_000  # words taken by frequency, before the required words are added
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RELSEARCH_SHARED") or ROOT.parent / "shared") / "data"

# Function words, auxiliaries, pronouns, numerals and fillers: they make poor relation pairs.
_STOPWORDS = """
    about above across after again against all almost along already also although always among and
    another any anybody anyone anything anyway anywhere are around because been before behind being
    below beside besides between beyond both but can cannot could did does doing done down during each
    either else elsewhere enough even ever every everybody everyone everything everywhere few for from
    further had has have having hence her here hers herself him himself his how however into its itself
    just least less many may maybe might mine more most much must myself near neither never nevertheless
    next nobody none nor not nothing now nowhere off often once one only onto other others otherwise our
    ours ourselves out over own per perhaps quite rather really same several shall she should since
    so some somebody someone something sometimes somewhat somewhere such than that the their theirs them
    themselves then there thereby therefore these they this those though through throughout thus till
    together too toward towards under unless until upon very via was were what whatever when whenever
    where whereas wherever whether which while who whoever whole whom whose why will with within without
    would yet you your yours yourself yourselves yes okay gonna wanna gotta yeah hey wow lol etc
    two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand
    million billion first second third fourth fifth
    able actually based certain else likely mostly next particular probably really several specific
    sure truly usually whether already still instead indeed anyway like thank thanks please sorry guess
    lot bit pretty kind sort thing things stuff guy guys dont thats inc vol
"""
STOPWORDS = set(_STOPWORDS.split())

# Profanity and slurs that frequency lists and the source data sets contain.
_BLOCKED = """
    fuck fucking fucked fucker shit shitty bullshit piss pissed bitch bitches damn damned ass asshole
    cunt dick dicks cock cocks pussy whore slut sex sexy sexual porn porno rape raped rapist nigger nigga
    fag faggot retard retarded penis vagina boob boobs tits horny orgasm masturbate bastard crap suck
    sucks hell goddamn dildo anal
"""
BLOCKED = set(_BLOCKED.split())

#: The paper's examples must be in the vocabulary.
EXAMPLES = [
    "barista",
    "coffee",
    "baker",
    "bread",
    "brewer",
    "beer",
    "bartender",
    "cocktail",
    "winemaker",
    "wine",
]


def content_words() -> set[str]:
    """Words of curated relation data sets: lexical relation sets (CC0) and SemEval-2012 (CC BY-SA)."""
    words: set[str] = set()
    for path in glob.glob(str(SHARED / "lexical_relation_classification" / "*" / "*.tsv")):
        with open(path, encoding="utf-8") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                words.update(row[:2])
    for path in glob.glob(str(SHARED / "semeval2012_task2" / "**" / "*.txt"), recursive=True):
        text = Path(path).read_text(encoding="latin-1")
        for head, tail in re.findall(r"\b([a-z]+):([a-z]+)\b", text):
            words.update((head, tail))
    return words


def gold_words() -> list[str]:
    with open(ROOT / "bench" / "gold_pairs.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [w for row in rows for w in (row["head"], row["tail"])]


def is_inflection(word: str, kept: set[str]) -> bool:
    """A regular plural, -ing or past form of a more frequent word already kept (cars, making)."""
    if word.endswith("ies") and word[:-3] + "y" in kept:
        return True
    if word.endswith("es") and word[:-2] in kept:
        return True
    if word.endswith("s") and not word.endswith("ss") and word[:-1] in kept:
        return True
    if word.endswith("ing") and (word[:-3] in kept or word[:-3] + "e" in kept or word[:-4] in kept):
        return True  # making, playing, running
    return word.endswith("ed") and (word[:-2] in kept or word[:-1] in kept or word[:-3] in kept)


def frequent_words(size: int = SIZE, *, content_only: bool = True) -> list[str]:
    """The frequency-list part of the vocabulary; ``content_only=False`` skips step 2 (for large
    vocabularies: a 1M-pair build)."""
    try:
        from wordfreq import top_n_list
    except ImportError:
        raise SystemExit(
            'data/make_vocab.py needs wordfreq: pip install -e ".[vocab]" (wordfreq==3.1.1)'
        ) from None

    content = content_words() if content_only else set()
    kept: list[str] = []
    seen: set[str] = set()
    for word in top_n_list("en", 60_000 if content_only else max(60_000, 4 * size), wordlist="large"):
        if len(kept) >= size:
            break
        if not (word.isascii() and word.isalpha() and word.islower() and 3 <= len(word) <= 15):
            continue
        if word in STOPWORDS or word in BLOCKED or is_inflection(word, seen):
            continue
        if content_only and word not in content:
            continue
        kept.append(word)
        seen.add(word)
    return kept


def with_extras(words: list[str]) -> list[str]:
    """``words`` followed by the paper's examples and the gold-pair words they lack."""
    kept, seen = list(words), set(words)
    for word in EXAMPLES + gold_words():
        if word not in seen:
            kept.append(word)
            seen.add(word)
    return kept


def build(size: int = SIZE, *, content_only: bool = True) -> list[str]:
    """The vocabulary: the frequency list, then the examples and gold-pair words it lacks."""
    return with_extras(frequent_words(size, content_only=content_only))


def main() -> None:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__.strip())
        return
    args = [a for a in sys.argv[1:] if a != "--all-words"]
    if len(args) > 2 or (args and not args[0].isdigit()):
        raise SystemExit("usage: python data/make_vocab.py [SIZE [OUT]] [--all-words]")
    content_only = "--all-words" not in sys.argv[1:]
    size = int(args[0]) if args else SIZE
    out = Path(args[1]) if len(args) > 1 else ROOT / "data" / "vocab.txt"
    frequent_list = frequent_words(size, content_only=content_only)
    words, frequent = with_extras(frequent_list), len(frequent_list)
    where = (
        "that occur in the lexical relation data sets or SemEval-2012 Task 2"
        if content_only
        else "(any word: --all-words)"
    )
    header = [
        "# relsearch default vocabulary: common English words for `relsearch build-index`.",
        f"# {len(words)} words: the {frequent} most frequent English words in wordfreq 3.1.1"
        " (data CC BY-SA 4.0)",
        f"# {where}, without function words,",
        "# profanity or regular inflections, plus the paper's examples and bench/gold_pairs.tsv words.",
        "# Made by data/make_vocab.py; see data/README-vocab.md. Licence: CC BY-SA 4.0.",
    ]
    out.write_text("\n".join(header + words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {out}")
    if content_only and frequent < size:
        print(
            f"note: only {frequent} of the {size} words asked for occur in the relation data sets; "
            "--all-words keeps the others too",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
