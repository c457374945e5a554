"""The benchmark files shipped in ``data/`` and how names on the command line resolve to them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from relsearch.default_model import DATA_DIR
from relsearch.errors import DataFormatError

ANALOGY_DIR = DATA_DIR / "analogy"
LEXICAL_RELATION_DIR = DATA_DIR / "lexical_relation"

#: Shipped analogy sets, in the order of the RelBERT paper's tables.
ANALOGY_DATASETS = ("u2", "u4", "google", "bats", "scan", "nell", "t_rex", "conceptnet")
ANALOGY_SPLITS = ("test", "valid")
ALL = "all"

#: Shipped lexical relation classification sets: display name -> directory name.
LEXICAL_RELATION_DATASETS = {
    "BLESS": "BLESS",
    "CogALexV": "CogALexV",
    "EVALution": "EVALution",
    "K&H+N": "K_H+N",
    "ROOT09": "ROOT09",
}


@dataclass(frozen=True)
class AnalogyTarget:
    """One analogy file to score: a shipped set (``split`` set) or a user file (``split`` None)."""

    name: str
    path: Path
    split: str | None


def analogy_path(name: str, split: str) -> Path:
    """Path of a shipped analogy set's split; raise if the set has no such split."""
    if split not in ANALOGY_SPLITS:
        raise DataFormatError(f"unknown split {split!r}; valid: {', '.join(ANALOGY_SPLITS)}")
    path = ANALOGY_DIR / name / f"{split}.jsonl"
    if not path.is_file():
        have = [s for s in ANALOGY_SPLITS if has_split(name, s)]
        raise DataFormatError(
            f"dataset {name!r} has no {split!r} split (shipped: {', '.join(have) or 'none'}); "
            f"use --split {have[0] if have else 'test'}"
        )
    return path


def has_split(name: str, split: str) -> bool:
    """Whether the shipped set ``name`` has ``split``."""
    return (ANALOGY_DIR / name / f"{split}.jsonl").is_file()


def resolve_analogy_targets(targets: list[str], split: str) -> tuple[list[AnalogyTarget], list[str]]:
    """Turn command-line targets into files; return them and the shipped sets ``all`` skipped.

    A target is a shipped name (exact, case-insensitive), ``all`` (every shipped set that has
    ``split``), or a path to a JSONL file. A shipped name wins over a file of the same name;
    write ``./u2`` for the file.
    """
    if not targets:
        raise DataFormatError(f"no dataset given; name one of {_valid_names()} or a JSONL file")
    resolved: list[AnalogyTarget] = []
    skipped: list[str] = []
    for target in targets:
        key = target.strip().lower()
        if key == ALL:
            for name in ANALOGY_DATASETS:
                if has_split(name, split):
                    resolved.append(AnalogyTarget(name, analogy_path(name, split), split))
                else:
                    skipped.append(name)
        elif key in ANALOGY_DATASETS:
            resolved.append(AnalogyTarget(key, analogy_path(key, split), split))
        elif Path(target).is_file():
            resolved.append(AnalogyTarget(target, Path(target), None))
        elif Path(target).suffix or "/" in target or "\\" in target:
            raise DataFormatError(f"analogy file {target!r} does not exist")
        else:
            raise DataFormatError(f"unknown dataset {target!r}; valid: {_valid_names()} or a JSONL file path")
    unique = {(t.name, t.path): t for t in resolved}
    return list(unique.values()), skipped


def _valid_names() -> str:
    return ", ".join((*ANALOGY_DATASETS, ALL))


def resolve_lexical_relation_dir(target: str) -> tuple[str, Path]:
    """``(display name, directory)`` for a shipped set name (any case; ``K_H+N`` too) or a directory."""
    key = target.strip().lower()
    for name, dirname in LEXICAL_RELATION_DATASETS.items():
        if key in (name.lower(), dirname.lower()):
            return name, LEXICAL_RELATION_DIR / dirname
    path = Path(target)
    if path.is_dir():
        return path.name or str(path), path
    if "/" in target or "\\" in target:
        raise DataFormatError(f"dataset directory {target!r} does not exist")
    raise DataFormatError(
        f"unknown dataset {target!r}; valid: {', '.join(LEXICAL_RELATION_DATASETS)} "
        "or a directory with train.tsv, test.tsv and optionally val.tsv"
    )
