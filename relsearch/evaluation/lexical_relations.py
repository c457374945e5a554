"""Lexical relation classification data: ``head<TAB>tail<TAB>label`` files per split."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from relsearch.errors import DataFormatError, InvalidPairError
from relsearch.pairs import Pair, parse_pair
from relsearch.text_files import read_lines

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class LabeledPairs:
    """Pairs and their relation labels, aligned."""

    pairs: tuple[Pair, ...]
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.pairs)


@dataclass(frozen=True)
class LexicalRelationData:
    """A dataset's splits; ``val`` may be missing. ``train_available`` counts train before subsampling."""

    name: str
    train: LabeledPairs
    test: LabeledPairs
    val: LabeledPairs | None = None
    train_available: int | None = None

    @property
    def subsampled(self) -> bool:
        return self.train_available is not None and self.train_available != len(self.train)

    def all_pairs(self) -> list[Pair]:
        """Every pair of every split in both directions, each once (what the features need)."""
        seen: dict[Pair, None] = {}
        for split in (self.train, self.val, self.test):
            for head, tail in split.pairs if split is not None else ():
                seen.setdefault((head, tail), None)
                seen.setdefault((tail, head), None)
        return list(seen)


def load_split(path: Path) -> LabeledPairs:
    """Read one TSV split; malformed lines raise ``DataFormatError`` naming file and line."""
    lines = read_lines(path, "lexical relation file")
    pairs: list[Pair] = []
    labels: list[str] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[2].strip():
            raise DataFormatError(f"{path}:{lineno}: expected 'head<TAB>tail<TAB>label', got {line[:80]!r}")
        try:
            pairs.append(parse_pair((fields[0], fields[1])))
        except InvalidPairError as exc:
            raise DataFormatError(f"{path}:{lineno}: {exc}") from exc
        labels.append(fields[2].strip())
    if not pairs:
        raise DataFormatError(f"lexical relation file {str(path)!r} holds no pairs")
    return LabeledPairs(tuple(pairs), tuple(labels))


def load_lexical_relation_data(name: str, directory: Path) -> LexicalRelationData:
    """Load ``train.tsv``, ``test.tsv`` and, if present, ``val.tsv`` from ``directory``."""
    val_path = directory / "val.tsv"
    return LexicalRelationData(
        name=name,
        train=load_split(directory / "train.tsv"),
        test=load_split(directory / "test.tsv"),
        val=load_split(val_path) if val_path.exists() else None,
    )


def subsample_train(data: LexicalRelationData, max_train: int | None, seed: int) -> LexicalRelationData:
    """Keep a seeded random ``max_train`` of the training pairs (all when it has no more)."""
    n = len(data.train)
    if max_train is None or max_train >= n:
        return replace(data, train_available=n)
    if max_train < 1:
        raise DataFormatError(f"--max-train must be at least 1, got {max_train}")
    keep = np.sort(np.random.default_rng(seed).choice(n, size=max_train, replace=False))
    train = LabeledPairs(tuple(data.train.pairs[i] for i in keep), tuple(data.train.labels[i] for i in keep))
    return replace(data, train=train, train_available=n)
