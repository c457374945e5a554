"""Model soups: the weight average of relation models fine-tuned from the same base.

Runs of one recipe with different seeds end in nearby points of weight space; their average
("uniform soup") or the average of the subset chosen greedily on validation ("greedy soup",
Wortsman et al. 2022: add the ingredients best first, keep each one only if the soup's
validation score does not drop) is often better than any single run, at no cost at inference.
Validation is the training selection's: prompt-vector analogy accuracy on the six validation
splits (:data:`relsearch.training.validation.VALID_SETS`), never the test splits.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relsearch.encoding import RelationEncoder
from relsearch.encoding.encoder import write_relbert_config
from relsearch.encoding.loading import (
    DELTA_FILE,
    delta_base_spec,
    load_pretrained,
    relative_spec,
    resolve_spec,
)
from relsearch.encoding.residual_delta import ENCODING
from relsearch.errors import RelsearchError
from relsearch.evaluation.analogy import AnalogyQuestion, distinct_pairs, evaluate_analogy_sets
from relsearch.relbert_config import settings_from_config

#: Selection methods: ``greedy`` (best first, keep what does not lower validation) or ``uniform``.
METHODS = ("greedy", "uniform")
#: Prefix of a distilled model's relation-head tensors in an ingredient's state.
HEAD_PREFIX = "relation_head."


@dataclass
class Ingredient:
    """One model of the soup: its spec, float tensors and validation scores."""

    spec: str
    source: str
    state: dict[str, torch.Tensor]  # the model's tensors, and the relation head's under HEAD_PREFIX
    hybrid: tuple[float, str | None] = (0.0, None)  # word_difference_weight, resolved word_model
    scores: dict[str, float] = field(default_factory=dict)  # split -> accuracy; "mean" too


@dataclass
class SoupResult:
    """What :func:`make_soup` chose and why."""

    method: str
    ingredients: list[Ingredient]  # every candidate, scored, best first
    chosen: list[str]  # sources of the ingredients averaged
    scores: dict[str, float]  # validation of the soup
    steps: list[dict[str, Any]]  # greedy: one record per candidate tried

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "chosen": self.chosen,
            "validation": self.scores,
            "ingredients": [{"model": i.source, "validation": i.scores} for i in self.ingredients],
            "steps": self.steps,
        }


def _identity(encoder: RelationEncoder) -> dict[str, Any]:
    """What all ingredients must share: base, architecture, prompt and pooling."""
    base = delta_base_spec(encoder.local_dir) if encoder.local_dir is not None else None
    return {
        "base": base or encoder.source,
        "architecture": type(encoder.model).__name__,
        "template": encoder.template,
        "pooling": encoder.aggregation,
        "max_length": encoder.max_length,
        "head": encoder.head is not None,
    }


def soup_state(encoder: RelationEncoder) -> dict[str, torch.Tensor]:
    """Copies of the tensors a soup averages: the model's and, if it has one, the relation head's."""
    state = {k: v.detach().clone() for k, v in encoder.model.state_dict().items()}
    if encoder.head is not None:
        state.update({HEAD_PREFIX + k: v.detach().clone() for k, v in encoder.head.state_dict().items()})
    return state


def hybrid_settings(encoder: RelationEncoder) -> tuple[float, str | None]:
    """The ``word_difference_weight`` and resolved ``word_model`` that ``encoder``'s config names.

    The soup's scoring encoders are built with weight 0 (validation scores prompt vectors), so
    this reads the model directory's config rather than ``encoder.settings``.
    """
    config = encoder.local_dir / "config.json" if encoder.local_dir is not None else None
    if config is None or not config.is_file():
        return 0.0, None
    settings = settings_from_config(json.loads(config.read_text(encoding="utf-8")).get("relbert_config"))
    if not settings.word_weight or not settings.word_model:
        return settings.word_weight, None
    return settings.word_weight, resolve_spec(relative_spec(settings.word_model, encoder.local_dir))[0]


def portable_word_model(word_model: str | None, target: Path) -> str | None:
    """``word_model`` as the soup in ``target`` should name it: a local directory relative to the
    soup's own folder (``./`` or ``../``), so that both can move together; other specs as they are."""
    if word_model is None or not Path(word_model).is_absolute():
        return word_model
    rel = os.path.relpath(word_model, Path(target).resolve())
    return rel if rel.startswith(".") else f"./{rel}"


def average_states(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of floating-point tensors; tensors equal in every state are kept as they
    are (so tensors no run trained stay equal to the base and out of the delta); non-float tensors
    must be equal."""
    if not states:
        raise RelsearchError("a soup needs at least one model")
    out: dict[str, torch.Tensor] = {}
    for name, first in states[0].items():
        if all(torch.equal(s[name], first) for s in states[1:]):
            out[name] = first  # frozen in every run: kept bit for bit (a mean would round it)
        elif first.is_floating_point():
            out[name] = torch.stack([s[name].to(torch.float32) for s in states]).mean(dim=0).to(first.dtype)
        else:
            raise RelsearchError(f"models differ in non-float tensor {name!r}; cannot average them")
    return out


def validation_scores(encoder: RelationEncoder, sets: dict[str, list[AnalogyQuestion]]) -> dict[str, float]:
    """Prompt-vector analogy accuracy per validation split, plus their unweighted ``mean``."""
    results = evaluate_analogy_sets(sets, encoder.encode)  # one pass over the distinct pairs
    scores = {name: r.accuracy for name, r in results.items()}
    scores["mean"] = float(np.mean(list(scores.values())))
    return scores


class SoupKitchen:
    """Loads the candidate models and scores weight averages of them on validation."""

    def __init__(
        self,
        specs: Sequence[str | os.PathLike[str]],
        sets: dict[str, list[AnalogyQuestion]],
        *,
        dtype: str = "float32",
        on_score: Callable[[str, dict[str, float]], None] | None = None,
    ) -> None:
        if len(specs) < 2:
            raise RelsearchError("a soup needs at least two models")
        sources = [resolve_spec(s)[0] for s in specs]
        if len(set(sources)) != len(sources):
            raise RelsearchError("the same model is listed twice")
        self.sets = sets
        self.on_score = on_score or (lambda label, scores: None)
        # one encoder does all the scoring; the ingredients' weights are swapped into it
        self.encoder = RelationEncoder(specs[0], word_weight=0.0, dtype=dtype, trace=False)
        identity = _identity(self.encoder)
        self.ingredients: list[Ingredient] = []
        for spec, source in zip(specs, sources, strict=True):
            if source == self.encoder.source:
                state, hybrid = soup_state(self.encoder), hybrid_settings(self.encoder)
            else:
                other = RelationEncoder(spec, word_weight=0.0, dtype="float32", trace=False)
                theirs = _identity(other)
                diff = sorted(k for k in identity if identity[k] != theirs[k])
                if diff:
                    details = "; ".join(f"{k}: {identity[k]!r} vs {theirs[k]!r}" for k in diff)
                    raise RelsearchError(f"{spec} cannot join a soup with {specs[0]} ({details})")
                state, hybrid = soup_state(other), hybrid_settings(other)
            self.ingredients.append(Ingredient(str(spec), source, state, hybrid))

    def load(self, state: dict[str, torch.Tensor]) -> None:
        """Put ``state`` into the scoring encoder (forgetting compiled runners and word vectors)."""
        head = {k.removeprefix(HEAD_PREFIX): v for k, v in state.items() if k.startswith(HEAD_PREFIX)}
        self.encoder.model.load_state_dict({k: v for k, v in state.items() if not k.startswith(HEAD_PREFIX)})
        if self.encoder.head is not None:
            self.encoder.head.load_state_dict(head)
        self.encoder.use_backend(self.encoder.backend, self.encoder.dtype)
        self.encoder.clear_word_cache()

    def score(self, state: dict[str, torch.Tensor], label: str) -> dict[str, float]:
        self.load(state)
        scores = validation_scores(self.encoder, self.sets)
        self.on_score(label, scores)
        return scores

    def cook(self, method: str = "greedy") -> SoupResult:
        """Score each ingredient, then average them uniformly or greedily (best first)."""
        if method not in METHODS:
            raise RelsearchError(f"unknown soup method {method!r}; choose one of {', '.join(METHODS)}")
        for ing in self.ingredients:
            ing.scores = self.score(ing.state, ing.source)
        ranked = sorted(self.ingredients, key=lambda i: -i.scores["mean"])
        steps: list[dict[str, Any]] = []
        if method == "uniform":
            chosen = ranked
            scores = self.score(average_states([i.state for i in chosen]), "uniform soup")
        else:
            chosen, scores = [ranked[0]], ranked[0].scores
            for ing in ranked[1:]:
                trial = self.score(
                    average_states([i.state for i in (*chosen, ing)]), f"soup of {len(chosen) + 1}"
                )
                kept = trial["mean"] >= scores["mean"]
                steps.append({"model": ing.source, "validation": trial, "kept": kept})
                if kept:
                    chosen, scores = [*chosen, ing], trial
        self.load(average_states([i.state for i in chosen]))
        return SoupResult(method, ranked, [i.source for i in chosen], scores, steps)


def trained_names(encoder: RelationEncoder, base_state: dict[str, torch.Tensor]) -> list[str]:
    """Tensors of ``encoder`` that differ from the base model's (what a delta must store)."""
    state = encoder.model.state_dict()
    return [
        name
        for name, tensor in state.items()
        if tensor.is_floating_point() and not torch.equal(tensor, base_state[name].to(tensor.dtype))
    ]


def export_soup(kitchen: SoupKitchen, result: SoupResult, target: Path) -> dict[str, Any]:
    """Write the soup in ``kitchen.encoder`` as a residual-int8 delta directory with its card.

    The soup keeps the hybrid settings of the first chosen ingredient (the best by validation):
    its ``word_difference_weight`` and its ``word_model``, re-pointed from the soup's folder.
    """
    from relsearch.training.export import export_model
    from relsearch.training.soup_card import render_soup_card

    encoder = kitchen.encoder
    target = Path(target)
    base = _identity(encoder)["base"]
    base_state = load_pretrained(base).model.state_dict()
    names = trained_names(encoder, base_state)
    check = distinct_pairs(kitchen.sets.values())[:64]
    encoder.use_backend("torch", "float32")  # the export check compares float32 vectors
    first_meta = delta_meta(result.chosen[0])
    weight, word_model = next(i.hybrid for i in result.ingredients if i.source == result.chosen[0])
    hybrid = dataclasses.replace(
        encoder.settings, word_weight=weight, word_model=portable_word_model(word_model, target)
    )
    metadata = {"soup": result.to_dict(), "training": first_meta.get("training", {})}
    card = render_soup_card(encoder, result, first_meta, hybrid=hybrid)
    info = export_model(  # checked on prompt vectors, then given the hybrid settings
        encoder,
        names,
        target,
        metadata=metadata,
        card=card,
        check_pairs=check,
        check_vectors=encoder.encode(check),
        delta_encoding=ENCODING,
        base_state=base_state,
    )
    if hybrid.word_weight:
        write_relbert_config(target, hybrid)
    return info


def delta_meta(source: str) -> dict[str, Any]:
    """The ``relsearch_delta.json`` of a model directory (empty for a full model)."""
    path = Path(source) / DELTA_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
