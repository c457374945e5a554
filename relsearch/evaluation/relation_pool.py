"""A large pool of analogy questions made from relation-labelled pairs (for model selection).

The analogy validation splits are small (U2 has 24 questions, U4 48), too small to tell
training runs apart. Relation-labelled pairs make many more questions of the same kind: for a
stem pair of relation ``r``, the answer is another pair of ``r`` from the same data set and
the distractors are pairs of other relations (unrelated pairs included) from that data set.
Built from the lexical relation sets' ``val.tsv`` files (less the few pairs that their
``test.tsv`` lists too), the pool holds no pair of a test split.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from relsearch.errors import DataFormatError
from relsearch.evaluation.analogy import AnalogyQuestion
from relsearch.pairs import Pair

#: Labels that mean "no relation": such pairs are distractors only, never stems or answers.
UNRELATED = frozenset({"random", "false"})


def _questions_of(
    pairs: Sequence[Pair], labels: Sequence[str], *, limit: int, n_choices: int, rng: np.random.Generator
) -> list[AnalogyQuestion]:
    by_label: dict[str, list[Pair]] = defaultdict(list)
    for (head, tail), label in zip(pairs, labels, strict=True):
        by_label[label].append((head.replace("_", " "), tail.replace("_", " ")))  # sheet_of_paper
    related = sorted(
        label for label, ps in by_label.items() if label.lower() not in UNRELATED and len(ps) > 1
    )
    if len(by_label) < 2 or not related:
        return []
    stems = [(label, i) for label in related for i in range(len(by_label[label]))]
    order = rng.permutation(len(stems))[:limit]
    questions = []
    for k in order.tolist():
        label, i = stems[k]
        stem = by_label[label][i]
        same = [p for p in by_label[label] if p != stem and not set(p) & set(stem)]
        others = [(other, p) for other, ps in by_label.items() if other != label for p in ps]
        if not same or len(others) < n_choices - 1:
            continue
        answer = same[int(rng.integers(len(same)))]
        distractors = [others[j][1] for j in rng.choice(len(others), size=n_choices - 1, replace=False)]
        choices = [answer, *distractors]
        position = int(rng.integers(n_choices))
        choices[0], choices[position] = choices[position], choices[0]
        questions.append(AnalogyQuestion(stem=stem, choices=tuple(choices), answer=position, prefix=label))
    return questions


def relation_pool(
    lexical_relation_dir: str | Path,
    *,
    split: str = "val",
    per_set: int = 500,
    n_choices: int = 5,
    seed: int = 0,
) -> dict[str, list[AnalogyQuestion]]:
    """Seeded questions per lexical relation set: ``{set name: questions}`` (``prefix``: the relation).

    At most ``per_set`` questions per set, each with ``n_choices`` choices; sets without a
    ``{split}.tsv`` are skipped. Raise ``DataFormatError`` if no set yields a question.
    """
    from relsearch.evaluation.lexical_relations import load_split

    root = Path(lexical_relation_dir).expanduser()
    pool: dict[str, list[AnalogyQuestion]] = {}
    for directory in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        path = directory / f"{split}.tsv"
        if not path.is_file():
            continue
        data = load_split(path)
        test = directory / "test.tsv"
        if split != "test" and test.is_file():  # a pair listed in both splits stays out of the pool
            held_out = set(load_split(test).pairs)
            keep = [i for i, pair in enumerate(data.pairs) if pair not in held_out]
            data = type(data)(tuple(data.pairs[i] for i in keep), tuple(data.labels[i] for i in keep))
        rng = np.random.default_rng([seed, sum(directory.name.encode())])
        questions = _questions_of(data.pairs, data.labels, limit=per_set, n_choices=n_choices, rng=rng)
        if questions:
            pool[directory.name] = questions
    if not pool:
        raise DataFormatError(f"no relation pool questions from {str(root)!r}/*/{split}.tsv")
    return pool
