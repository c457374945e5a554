"""Multiple-choice analogy questions: pick the choice whose relation vector is closest to the stem's."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from relsearch.errors import DataFormatError
from relsearch.pairs import Pair, parse_pair
from relsearch.text_files import read_lines

#: Anything that maps a list of pairs to unit-norm vectors ``(n, d)``.
EncodeFn = Callable[[list[Pair]], np.ndarray]
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class AnalogyQuestion:
    """``stem`` is to which of ``choices``? ``answer`` indexes the right choice."""

    stem: Pair
    choices: tuple[Pair, ...]
    answer: int
    prefix: str | None = None


@dataclass
class AnalogyResult:
    """Accuracy overall and per prefix (section), with the predictions."""

    n: int
    correct: int
    predictions: list[int]
    by_prefix: dict[str, tuple[int, int]] = field(default_factory=dict)  # prefix -> (correct, n)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"accuracy": self.accuracy, "n": self.n, "correct": self.correct}
        if self.by_prefix:
            out["by_prefix"] = {
                k: {"accuracy": c / n, "n": n, "correct": c} for k, (c, n) in sorted(self.by_prefix.items())
            }
        return out


def load_analogy_questions(path: str | Path) -> list[AnalogyQuestion]:
    """Read JSONL lines ``{"stem": [a, b], "choice": [[c, d], ...], "answer": i, "prefix"?: s}``."""
    path = Path(path)
    lines = read_lines(path, "analogy file")
    questions: list[AnalogyQuestion] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            choices = tuple(parse_pair(tuple(c)) for c in raw["choice"])
            answer = int(raw["answer"])
            stem = parse_pair(tuple(raw["stem"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataFormatError(
                f"{path}:{lineno}: expected {{'stem': [a, b], 'choice': [[c, d], ...], 'answer': i}}: {exc}"
            ) from exc
        if not 0 <= answer < len(choices):
            raise DataFormatError(
                f"{path}:{lineno}: answer {answer} is out of range for {len(choices)} choices"
            )
        prefix = raw.get("prefix")
        questions.append(AnalogyQuestion(stem, choices, answer, str(prefix) if prefix is not None else None))
    if not questions:
        raise DataFormatError(f"analogy file {str(path)!r} holds no questions")
    return questions


def _reversed(pair: Pair) -> Pair:
    return (pair[1], pair[0])


def distinct_pairs(
    question_sets: Iterable[Sequence[AnalogyQuestion]], *, bidirectional: bool = False
) -> list[Pair]:
    """Every stem and choice pair over all sets, each once, in order of first appearance
    (with ``bidirectional``, each pair's reverse too)."""
    seen: dict[Pair, None] = {}
    for questions in question_sets:
        for q in questions:
            for p in (q.stem, *q.choices):
                seen.setdefault(p, None)
                if bidirectional:
                    seen.setdefault(_reversed(p), None)
    return list(seen)


def _encode_unit(pairs: list[Pair], encode: EncodeFn) -> np.ndarray:
    """``encode(pairs)`` re-normalised (so scores are cosines whatever ``encode`` returns)."""
    vectors = np.asarray(encode(pairs), dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(pairs):
        raise ValueError(f"encode returned shape {vectors.shape} for {len(pairs)} pairs")
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _predict_with(
    questions: Sequence[AnalogyQuestion],
    vectors: np.ndarray,
    row: dict[Pair, int],
    *,
    bidirectional: bool = False,
) -> list[int]:
    preds = []
    for q in questions:
        scores = vectors[[row[c] for c in q.choices]] @ vectors[row[q.stem]]
        if bidirectional:  # RelBERT's scoring: cos(v(A,B), v(C,D)) * cos(v(B,A), v(D,C))
            back = vectors[[row[_reversed(c)] for c in q.choices]] @ vectors[row[_reversed(q.stem)]]
            scores = scores * back
        preds.append(int(np.argmax(scores)))  # ties go to the first choice
    return preds


def predict(
    questions: Sequence[AnalogyQuestion], encode: EncodeFn, *, bidirectional: bool = False
) -> list[int]:
    """Index of the choice with the highest cosine to the stem, per question.

    With ``bidirectional`` a choice C:D scores ``cos(v(A,B), v(C,D)) * cos(v(B,A), v(D,C))``.
    """
    pairs = distinct_pairs([questions], bidirectional=bidirectional)
    vectors = _encode_unit(pairs, encode)
    row = {p: i for i, p in enumerate(pairs)}
    return _predict_with(questions, vectors, row, bidirectional=bidirectional)


def _score(questions: Sequence[AnalogyQuestion], preds: list[int]) -> AnalogyResult:
    by_prefix: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    correct = 0
    for q, p in zip(questions, preds, strict=True):
        hit = int(p == q.answer)
        correct += hit
        if q.prefix is not None:
            by_prefix[q.prefix][0] += hit
            by_prefix[q.prefix][1] += 1
    return AnalogyResult(
        n=len(questions),
        correct=correct,
        predictions=preds,
        by_prefix={k: (v[0], v[1]) for k, v in by_prefix.items()},
    )


def evaluate_analogies(
    questions: Sequence[AnalogyQuestion], encode: EncodeFn, *, bidirectional: bool = False
) -> AnalogyResult:
    """Accuracy of :func:`predict` against the answers, overall and per prefix."""
    return _score(questions, predict(questions, encode, bidirectional=bidirectional))


def evaluate_analogy_sets(
    question_sets: Mapping[K, Sequence[AnalogyQuestion]], encode: EncodeFn, *, bidirectional: bool = False
) -> dict[K, AnalogyResult]:
    """Score several sets with one ``encode`` call over the distinct pairs of all of them."""
    pairs = distinct_pairs(question_sets.values(), bidirectional=bidirectional)
    vectors = _encode_unit(pairs, encode)
    row = {p: i for i, p in enumerate(pairs)}
    return {
        name: _score(qs, _predict_with(qs, vectors, row, bidirectional=bidirectional))
        for name, qs in question_sets.items()
    }
