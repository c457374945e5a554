"""The distillation set: the pairs a teacher labels for its student, and the pairs it must not.

Four sources, in this order: each vocabulary word with its ``k`` nearest words (both
directions, as in an index build), seeded random pairs of vocabulary words (the unrelated
pairs that analogy questions offer as distractors), every rated SemEval-2012 Task 2 pair, and
optionally a seeded sample of relation-labelled training pairs (the ``train`` splits of the
lexical relation sets and of ConceptNet100k: hypernyms, meronyms, locations, uses, causes).
Every pair of a shipped benchmark's validation or test split (analogy stems and choices,
lexical relation pairs) is dropped in both orders, compared case-insensitively, and counted.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relsearch.pairs import Pair

SOURCES = ("candidates", "random", "semeval", "relational")
CONCEPTNET_TRAIN = Path("conceptnet100k") / "train.txt"
LEXICAL_RELATION_TRAIN = Path("lexical_relation_classification")
MAX_PHRASE_WORDS = 3


def _key(pair: Pair) -> Pair:
    return pair[0].casefold(), pair[1].casefold()


def benchmark_pairs(analogy_dir: Path | None = None, lexical_relation_dir: Path | None = None) -> set[Pair]:
    """Casefolded pairs, both orders, of every shipped evaluation split that is not training data.

    Analogy sets: every ``valid`` and ``test`` file (``*.jsonl``), stems and all choices.
    Lexical relation sets: ``val.tsv`` and ``test.tsv`` (their ``train.tsv`` is training data).
    """
    from relsearch.evaluation.analogy import load_analogy_questions
    from relsearch.evaluation.lexical_relations import load_split
    from relsearch.evaluation.shipped import ANALOGY_DIR, LEXICAL_RELATION_DIR

    pairs: set[Pair] = set()
    for path in sorted((analogy_dir or ANALOGY_DIR).glob("*/*.jsonl")):
        for q in load_analogy_questions(path):
            pairs.update(_key(p) for p in (q.stem, *q.choices))
    for directory in sorted((lexical_relation_dir or LEXICAL_RELATION_DIR).iterdir()):
        for name in ("val.tsv", "test.tsv"):
            if (directory / name).is_file():
                pairs.update(_key(p) for p in load_split(directory / name).pairs)
    return pairs | {(t, h) for h, t in pairs}


def semeval_pairs(data_dir: str | os.PathLike[str]) -> list[Pair]:
    """Every rated pair of SemEval-2012 Task 2 (training and testing phases), in file order."""
    from relsearch.training.semeval import load_subcategories

    return [pair for sub in load_subcategories(data_dir) for pair, _ in sub.ratings]


def relational_training_pairs(data_dir: str | os.PathLike[str]) -> list[Pair]:
    """The pairs of every lexical relation ``train.tsv`` and of ConceptNet100k's ``train.txt``.

    ConceptNet phrases of more than ``MAX_PHRASE_WORDS`` words are skipped. Missing files are
    skipped too; if none is there, raise ``DataFormatError`` naming where they were looked for.
    """
    from relsearch.errors import DataFormatError
    from relsearch.evaluation.lexical_relations import load_split

    root = Path(data_dir).expanduser()
    pairs: list[Pair] = []
    found = False
    lexical = root / LEXICAL_RELATION_TRAIN
    for path in sorted(lexical.glob("*/train.tsv")) if lexical.is_dir() else []:
        found = True
        pairs.extend(load_split(path).pairs)
    conceptnet = root / CONCEPTNET_TRAIN
    if conceptnet.is_file():
        found = True
        with open(conceptnet, encoding="utf-8") as fh:
            for line in fh:
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 3:
                    continue
                head, tail = fields[1].strip(), fields[2].strip()
                if head and tail and max(len(head.split()), len(tail.split())) <= MAX_PHRASE_WORDS:
                    pairs.append((head, tail))
    if not found:
        raise DataFormatError(
            f"no relation training pairs under {str(root)!r}: expected {LEXICAL_RELATION_TRAIN}/*/train.tsv "
            f"or {CONCEPTNET_TRAIN}"
        )
    return pairs


def sample_pairs(pairs: Sequence[Pair], n: int, seed: int | Sequence[int]) -> list[Pair]:
    """A seeded sample of ``n`` pairs (all of them if there are fewer), in their original order."""
    if n >= len(pairs):
        return list(pairs)
    keep = np.sort(np.random.default_rng(seed).permutation(len(pairs))[:n])
    return [pairs[i] for i in keep.tolist()]


def candidate_pairs(words: Sequence[str], word_vectors: np.ndarray, k: int) -> list[Pair]:
    """Each word with its ``k`` nearest words by ``word_vectors``, both directions."""
    from index_builder.candidates import knn_pair_ids

    heads, tails = knn_pair_ids(word_vectors, k)
    return [(words[h], words[t]) for h, t in zip(heads.tolist(), tails.tolist(), strict=True)]


def random_pairs(words: Sequence[str], n: int, seed: int) -> list[Pair]:
    """``n`` seeded ordered pairs of distinct words (fewer if the vocabulary is tiny)."""
    if n <= 0 or len(words) < 2:
        return []
    rng = np.random.default_rng(seed)
    n = min(n, len(words) * (len(words) - 1))
    codes: set[int] = set()
    size = len(words)
    while len(codes) < n:
        draw = rng.integers(0, size * size, size=2 * (n - len(codes)))
        for code in draw.tolist():
            h, t = divmod(code, size)
            if h != t and len(codes) < n:
                codes.add(code)
    return [(words[h], words[t]) for h, t in (divmod(c, size) for c in sorted(codes))]


@dataclass
class DistillationSet:
    """The pairs, and how many each source gave, were duplicates, or were benchmark pairs."""

    pairs: list[Pair]
    offered: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    dropped_benchmark: int = 0
    dropped_examples: list[str] = field(default_factory=list)

    def report(self) -> dict[str, object]:
        return {
            "pairs": len(self.pairs),
            "offered": self.offered,
            "kept": self.kept,
            "duplicates": self.duplicates,
            "dropped_benchmark": self.dropped_benchmark,
            "dropped_examples": self.dropped_examples,
        }


def assemble(sources: dict[str, Iterable[Pair]], exclude: set[Pair]) -> DistillationSet:
    """Concatenate ``sources`` in order, dropping duplicates and every pair in ``exclude``."""
    result = DistillationSet(pairs=[])
    seen: set[Pair] = set()
    for name, pairs in sources.items():
        offered = kept = 0
        for pair in pairs:
            offered += 1
            key = _key(pair)
            if key in exclude:
                result.dropped_benchmark += 1
                if len(result.dropped_examples) < 10:
                    result.dropped_examples.append(f"{pair[0]}:{pair[1]}")
                continue
            if key in seen or pair[0] == pair[1]:
                result.duplicates += 1
                continue
            seen.add(key)
            result.pairs.append(pair)
            kept += 1
        result.offered[name], result.kept[name] = offered, kept
    return result


def write_pairs(path: Path, pairs: Sequence[Pair]) -> None:
    """A ``head<TAB>tail`` TSV with a header line, written atomically."""
    from relsearch.storage.atomic import atomic_write

    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["head", "tail"])
        writer.writerows(pairs)


def write_report(path: Path, report: dict[str, object]) -> None:
    from relsearch.storage.atomic import write_json_atomic

    write_json_atomic(path, report)


def make_distillation_set(
    words: Sequence[str],
    word_vectors: np.ndarray,
    *,
    k: int,
    n_random: int,
    seed: int,
    semeval_dir: str | os.PathLike[str] | None,
    exclude: set[Pair] | None = None,
    n_relational: int = 0,
    relational_dir: str | os.PathLike[str] | None = None,
) -> DistillationSet:
    """The sources of the module docstring, assembled without benchmark pairs.

    ``n_relational`` relation-labelled training pairs are sampled (seeded) from
    ``relational_dir`` (default: ``semeval_dir``, the shared data folder) before benchmark
    pairs and duplicates are dropped, so slightly fewer may be kept.
    """
    sources: dict[str, Iterable[Pair]] = {
        "candidates": candidate_pairs(words, word_vectors, k),
        "random": random_pairs(words, n_random, seed),
        "semeval": semeval_pairs(semeval_dir) if semeval_dir is not None else [],
    }
    if n_relational > 0:
        folder = relational_dir if relational_dir is not None else semeval_dir
        if folder is None:
            raise ValueError("relational pairs need a data folder")
        sources["relational"] = sample_pairs(relational_training_pairs(folder), n_relational, [seed, 17])
    return assemble(sources, benchmark_pairs() if exclude is None else exclude)
