"""Lexical relation classification with frozen relation vectors (the RelBERT paper's protocol).

Features are ``concat(v(h, t), v(t, h))`` of the raw (un-normalised) relation vectors; a
scikit-learn ``MLPClassifier`` is trained on train with each configuration of a small grid, the
one with the best micro F1 on the validation split is kept, and micro/macro F1 are reported on
test. RelBERT's grid is learning rate {1e-3, 1e-4, 1e-5} x hidden size {100, 150, 200}.
A dataset without a validation split (CogALexV) is tuned on a seeded, stratified 10% held out of
train, and the chosen configuration is then refitted on all of train.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from relsearch.errors import RelsearchError
from relsearch.evaluation.lexical_relations import LabeledPairs, LexicalRelationData
from relsearch.pairs import Pair
from relsearch.progress import progress_bar

EncodeFn = Callable[[list[Pair]], np.ndarray]

GRIDS: dict[str, list[dict[str, Any]]] = {
    "relbert": [
        {"learning_rate_init": lr, "hidden_layer_sizes": (size,)}
        for lr in (1e-3, 1e-4, 1e-5)
        for size in (100, 150, 200)
    ],
    "small": [{"learning_rate_init": lr, "hidden_layer_sizes": (100,)} for lr in (1e-3, 1e-4)],
}
HOLDOUT_FRACTION = 0.1


def require_sklearn() -> None:
    """Raise a clear error when scikit-learn (the ``eval`` extra) is not installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise RelsearchError(
            "lexical relation classification needs scikit-learn; install it with "
            "`pip install 'relsearch[eval]'` (or `pip install scikit-learn`)"
        ) from None


@dataclass
class ClassificationResult:
    """Test scores of the selected classifier and how it was selected."""

    dataset: str
    f1_micro: float
    f1_macro: float
    f1_by_label: dict[str, float]
    labels: list[str]
    n_train: int
    n_train_available: int
    n_val: int
    n_test: int
    validation: str
    best_config: dict[str, Any]
    search: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0

    @property
    def train_subsampled(self) -> bool:
        return self.n_train != self.n_train_available

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "train_subsampled": self.train_subsampled}


def _features(split: LabeledPairs, vectors: np.ndarray, row: dict[Pair, int]) -> np.ndarray:
    forward = [row[p] for p in split.pairs]
    backward = [row[(t, h)] for h, t in split.pairs]
    return np.concatenate([vectors[forward], vectors[backward]], axis=1).astype(np.float32)


def _holdout(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    try:
        fit, held = train_test_split(idx, test_size=HOLDOUT_FRACTION, random_state=seed, stratify=y)
    except ValueError:  # a label with a single example cannot be stratified
        fit, held = train_test_split(idx, test_size=HOLDOUT_FRACTION, random_state=seed)
    return np.sort(fit), np.sort(held)


def _fit(x: np.ndarray, y: np.ndarray, config: dict[str, Any], seed: int) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(random_state=seed, **config).fit(x, y)


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    return (
        float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    )


def evaluate_classification(
    data: LexicalRelationData,
    encode: EncodeFn,
    *,
    grid: str = "relbert",
    seed: int = 0,
    progress: bool = False,
) -> ClassificationResult:
    """Train, select on validation, and score one dataset; ``encode`` returns raw pair vectors."""
    require_sklearn()
    if grid not in GRIDS:
        raise RelsearchError(f"unknown grid {grid!r}; valid: {', '.join(GRIDS)}")
    pairs = data.all_pairs()
    vectors = np.asarray(encode(pairs), dtype=np.float32)
    row = {p: i for i, p in enumerate(pairs)}
    x_train, y_train = _features(data.train, vectors, row), np.array(data.train.labels)
    x_test, y_test = _features(data.test, vectors, row), np.array(data.test.labels)
    if data.val is not None:
        x_fit, y_fit = x_train, y_train
        x_val, y_val = _features(data.val, vectors, row), np.array(data.val.labels)
        validation = "val"
    else:
        fit, held = _holdout(y_train, seed)
        x_fit, y_fit, x_val, y_val = x_train[fit], y_train[fit], x_train[held], y_train[held]
        validation = f"holdout: {HOLDOUT_FRACTION:.0%} of train (seed {seed}), then refit on all of train"

    configs = GRIDS[grid]
    search: list[dict[str, Any]] = []
    best: tuple[float, int, Any] | None = None
    refit = data.val is None
    with progress_bar(len(configs) + refit, f"{data.name}: MLP search", enabled=progress) as advance:
        for i, config in enumerate(configs):
            clf = _fit(x_fit, y_fit, config, seed)
            micro, macro = _scores(y_val, clf.predict(x_val))
            search.append({**_jsonable(config), "val_f1_micro": micro, "val_f1_macro": macro})
            if best is None or micro > best[0]:
                best = (micro, i, clf)
            advance(1)
        assert best is not None
        clf = best[2]
        if refit:
            clf = _fit(x_train, y_train, configs[best[1]], seed)
            advance(1)

    y_pred = clf.predict(x_test)
    micro, macro = _scores(y_test, y_pred)
    labels = sorted(set(y_train) | set(y_test) | set(y_val))
    from sklearn.metrics import f1_score

    per_label = f1_score(y_test, y_pred, labels=labels, average=None, zero_division=0)
    return ClassificationResult(
        dataset=data.name,
        f1_micro=micro,
        f1_macro=macro,
        f1_by_label={label: float(f) for label, f in zip(labels, per_label, strict=True)},
        labels=labels,
        n_train=len(data.train),
        n_train_available=data.train_available or len(data.train),
        n_val=len(y_val),
        n_test=len(y_test),
        validation=validation,
        best_config=_jsonable(configs[best[1]]),
        search=search,
        seed=seed,
    )


def _jsonable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}
