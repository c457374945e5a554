"""SemEval-2012 Task 2 gold ratings turned into RelBERT training relations (no torch needed).

Per subcategory (79): positives are the 10 highest-scoring pairs with a score above 0;
negatives are the pairs scored below 0 plus the positives of every other relation. Each parent
category (10) is an extra relation: positives are its children's positives, negatives the
positives of the other parents' children. A seeded 20% of each subcategory's positives is held
out for validation; a parent holds out exactly its children's held-out positives. Held-out pairs
are kept out of every training negative pool too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relsearch.errors import DataFormatError, RelsearchError
from relsearch.pairs import Pair, parse_pair

GOLD_DIR = Path("semeval2012_task2") / "SemEval-2012-Gold-Ratings"
LISTING = "subcategories-list.txt"
_LINE = re.compile(r'^\s*(-?\d+(?:\.\d+)?)\s+"(.+)"\s*$')
_FILE = re.compile(r"^GoldRatings-(\d+[a-z])\.txt$")


@dataclass(frozen=True)
class Subcategory:
    """One SemEval relation: id like ``"8a"``, its parent id ``"8"``, names, and rated pairs."""

    id: str
    parent: str
    parent_name: str
    name: str
    ratings: tuple[tuple[Pair, float], ...]


@dataclass
class Relation:
    """A training relation: train/held-out positives and the two negative pools."""

    name: str
    description: str
    train_positives: list[Pair]
    valid_positives: list[Pair]
    negatives: list[Pair]  # training pool: own pairs scored < 0 + other relations' TRAIN positives,
    # minus every held-out pair
    valid_negatives: list[Pair] = field(default_factory=list)  # + other relations' held-out positives

    @property
    def is_parent(self) -> bool:
        return not self.name[-1].isalpha()


@dataclass
class TrainingData:
    """All relations (children first, then parents) and the source directory."""

    relations: list[Relation]
    source: Path

    def distinct_pairs(self) -> list[Pair]:
        """Every pair used anywhere, first-seen order."""
        seen: dict[Pair, None] = {}
        for rel in self.relations:
            for pair in (*rel.train_positives, *rel.valid_positives, *rel.negatives, *rel.valid_negatives):
                seen.setdefault(pair, None)
        return list(seen)

    def fingerprint(self) -> str:
        """Hash of the relations' contents (resume refuses when the data changed)."""
        payload = [
            [r.name, r.train_positives, r.valid_positives, r.negatives, r.valid_negatives]
            for r in self.relations
        ]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()[:16]

    def summary(self) -> dict[str, object]:
        children = [r for r in self.relations if not r.is_parent]
        parents = [r for r in self.relations if r.is_parent]
        return {
            "source": str(self.source),
            "relations": len(self.relations),
            "subcategories": len(children),
            "parents": len(parents),
            "distinct_pairs": len(self.distinct_pairs()),
            "train_positives": sum(len(r.train_positives) for r in children),
            "valid_positives": sum(len(r.valid_positives) for r in children),
        }


def default_shared_dir() -> Path:
    """``$RELSEARCH_SHARED`` or ``<repository>/../shared`` (where CI and tests find shared data)."""
    env = os.environ.get("RELSEARCH_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared"


def default_data_dir() -> Path:
    """The shared ``data/`` folder holding ``semeval2012_task2/`` and ``analogy_questions/``."""
    return default_shared_dir() / "data"


def gold_ratings_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Find the gold-ratings folder in ``data_dir`` (the shared data root or the folder itself)."""
    root = Path(data_dir).expanduser()
    for candidate in (root / GOLD_DIR, root / GOLD_DIR.name, root):
        if (candidate / LISTING).is_file():
            return candidate
    raise DataFormatError(
        f"no SemEval-2012 gold ratings under {str(root)!r}: expected {GOLD_DIR / LISTING}; "
        "pass --data pointing at the shared data folder (or set RELSEARCH_SHARED)"
    )


def _read_listing(path: Path) -> dict[str, tuple[str, str, str]]:
    """``subcategories-list.txt`` lines ``1, a, CLASS-INCLUSION, Taxonomic`` -> id -> (parent, names)."""
    listing: dict[str, tuple[str, str, str]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",", 3)]
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isalpha():
            raise DataFormatError(f"{path}:{lineno}: expected 'N, letter, PARENT, name', got {line!r}")
        listing[parts[0] + parts[1]] = (parts[0], parts[2], parts[3])
    return listing


def _read_ratings(path: Path) -> tuple[tuple[Pair, float], ...]:
    rows: list[tuple[Pair, float]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise DataFormatError(f'{path}:{lineno}: expected a line like  50.0 "weapon:spear", got {line!r}')
        try:
            pair = parse_pair(match.group(2))
        except RelsearchError as exc:
            raise DataFormatError(f"{path}:{lineno}: {exc}") from exc
        rows.append((pair, float(match.group(1))))
    if not rows:
        raise DataFormatError(f"{path} holds no rated pairs")
    return tuple(rows)


def load_subcategories(data_dir: str | os.PathLike[str]) -> list[Subcategory]:
    """Read every ``GoldRatings-<id>.txt`` (Training/ and Testing/) with its listed names."""
    gold = gold_ratings_dir(data_dir)
    listing = _read_listing(gold / LISTING)
    files: dict[str, Path] = {}
    for path in sorted(gold.rglob("GoldRatings-*.txt")):
        match = _FILE.match(path.name)
        if not match:
            continue
        rid = match.group(1)
        if rid in files:
            raise DataFormatError(f"relation {rid} has two gold files: {files[rid]} and {path}")
        files[rid] = path
    missing = sorted(set(listing) - set(files))
    unknown = sorted(set(files) - set(listing))
    if missing or unknown:
        raise DataFormatError(
            f"{gold}: gold files and {LISTING} disagree (listed without a file: {missing[:5]}, "
            f"files not listed: {unknown[:5]})"
        )
    return [
        Subcategory(rid, listing[rid][0], listing[rid][1], listing[rid][2], _read_ratings(files[rid]))
        for rid in sorted(files, key=lambda r: (int(r[:-1]), r[-1]))
    ]


def _positives(sub: Subcategory, n_positives: int) -> list[Pair]:
    ranked = sorted((r for r in sub.ratings if r[1] > 0), key=lambda r: -r[1])  # stable: file order on ties
    return [pair for pair, _ in ranked[:n_positives]]


def _without(pool: Iterable[Pair], exclude: set[Pair]) -> list[Pair]:
    seen: dict[Pair, None] = {}
    for pair in pool:
        if pair not in exclude:
            seen.setdefault(pair, None)
    return list(seen)


def build_relations(
    subcategories: list[Subcategory],
    *,
    seed: int = 0,
    valid_fraction: float = 0.2,
    n_positives: int = 10,
    source: Path | None = None,
) -> TrainingData:
    """Turn rated subcategories into child + parent relations with a seeded held-out split."""
    if not 0 <= valid_fraction < 1:
        raise RelsearchError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    rng = np.random.default_rng(seed)
    train: dict[str, list[Pair]] = {}
    valid: dict[str, list[Pair]] = {}
    for sub in subcategories:
        pos = _positives(sub, n_positives)
        if len(pos) < 2:
            raise DataFormatError(f"relation {sub.id} has {len(pos)} positively scored pair(s); need 2")
        n_valid = min(len(pos) - 2, round(valid_fraction * len(pos))) if valid_fraction else 0
        order = rng.permutation(len(pos))
        valid[sub.id] = [pos[i] for i in sorted(order[:n_valid])]
        train[sub.id] = [pos[i] for i in sorted(order[n_valid:])]
    held_out = {p for pairs in valid.values() for p in pairs}  # never trained on, not even as negatives
    relations: list[Relation] = []
    for sub in subcategories:
        own = set(train[sub.id]) | set(valid[sub.id])
        scored_below = [p for p, s in sub.ratings if s < 0]
        others_train = [p for o in subcategories if o.id != sub.id for p in train[o.id]]
        others_valid = [p for o in subcategories if o.id != sub.id for p in valid[o.id]]
        relations.append(
            Relation(
                name=sub.id,
                description=f"{sub.parent_name} / {sub.name}",
                train_positives=train[sub.id],
                valid_positives=valid[sub.id],
                negatives=_without([*scored_below, *others_train], own | held_out),
                valid_negatives=_without([*scored_below, *others_train, *others_valid], own),
            )
        )
    parents: dict[str, list[Subcategory]] = {}
    for sub in subcategories:
        parents.setdefault(sub.parent, []).append(sub)
    for parent, children in parents.items():
        ids = {c.id for c in children}
        ptrain = _without((p for c in children for p in train[c.id]), set())
        pvalid = _without((p for c in children for p in valid[c.id]), set(ptrain))
        own = set(ptrain) | set(pvalid)
        others = [o for o in subcategories if o.id not in ids]
        relations.append(
            Relation(
                name=parent,
                description=children[0].parent_name,
                train_positives=ptrain,
                valid_positives=pvalid,
                negatives=_without((p for o in others for p in train[o.id]), own | held_out),
                valid_negatives=_without((p for o in others for p in (*train[o.id], *valid[o.id])), own),
            )
        )
    return TrainingData(relations, source or Path("."))


def load_training_data(
    data_dir: str | os.PathLike[str], *, seed: int = 0, valid_fraction: float = 0.2
) -> TrainingData:
    """Read the gold ratings under ``data_dir`` and build the training relations."""
    subs = load_subcategories(data_dir)
    return build_relations(subs, seed=seed, valid_fraction=valid_fraction, source=gold_ratings_dir(data_dir))
