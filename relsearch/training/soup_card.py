"""The model card (README.md) of a model soup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relsearch import __version__
from relsearch.encoding import RelationEncoder
from relsearch.relbert_config import RelbertSettings
from relsearch.training.model_card import (
    POOLING_TEXT,
    SET_LABELS,
    TEST_EVAL_BEGIN,
    TEST_EVAL_END,
    USE_TEXT,
    _template_id,
    recipe_text,
)
from relsearch.training.soup import SoupResult, delta_meta
from relsearch.training.validation import VALID_SETS


def _row(label: str, scores: dict[str, float], bold: bool = False) -> str:
    mark = "**" if bold else ""
    cells = [f"{100 * scores.get(s, float('nan')):.1f}" for s in VALID_SETS]
    return f"| {mark}{label}{mark} | " + " | ".join(cells) + f" | {mark}{100 * scores['mean']:.1f}{mark} |"


def _run_label(source: str) -> str:
    path = Path(source)
    return path.parent.name if path.name == "best" else path.name


#: Settings that do not change an ingredient's weights (``select``: its kept epoch is noted).
EXPORT_ONLY = frozenset({"out", "data", "full_export", "cache", "select"})


def _differences(source: str, first: dict[str, Any] | None) -> str:
    """`` (seed 1, kept epoch 3)``: an ingredient's training settings that differ from ``first``."""
    training = delta_meta(source).get("training", {})
    cfg = training.get("config") or {}
    notes = [f"{k} {v}" for k, v in cfg.items() if first and k not in EXPORT_ONLY and first.get(k) != v]
    if training.get("best_epoch") is not None:
        notes.append(f"kept epoch {training['best_epoch']}")
    return f" ({', '.join(notes)})" if notes else ""


def validation_table(result: SoupResult) -> str:
    """Markdown: each candidate's validation scores, the greedy steps, and the soup's."""
    head = "| model | " + " | ".join(SET_LABELS.get(s, s) for s in VALID_SETS) + " | mean |"
    lines = [head, "|" + "---|" * (len(VALID_SETS) + 2)]
    chosen = set(result.chosen)
    for ing in result.ingredients:
        label = _run_label(ing.source) + (" (in the soup)" if ing.source in chosen else " (left out)")
        lines.append(_row(label, ing.scores))
    for i, step in enumerate(result.steps, 2):
        verdict = "kept" if step["kept"] else "dropped"
        lines.append(_row(f"greedy step {i}: + {_run_label(step['model'])} ({verdict})", step["validation"]))
    lines.append(_row(f"soup ({result.method}, {len(result.chosen)} models)", result.scores, bold=True))
    return "\n".join(lines)


def _hybrid_line(hybrid: RelbertSettings | None) -> str:
    if hybrid is None or not hybrid.word_weight:
        return ""
    words = f"`{hybrid.word_model}`" if hybrid.word_model else "this model"
    return (
        f"\n- **Hybrid vectors:** word-difference weight {hybrid.word_weight:g} with the word vectors of "
        f"{words}, as in the first ingredient"
    )


def render_soup_card(
    encoder: RelationEncoder,
    result: SoupResult,
    first_meta: dict[str, Any],
    *,
    hybrid: RelbertSettings | None = None,
) -> str:
    """Card text: what was averaged, the shared recipe, and validation of every candidate."""
    training = first_meta.get("training", {})
    cfg, data = training.get("config"), training.get("data")
    base = first_meta.get("base", encoder.source)
    recipe = (
        recipe_text(cfg, data)
        + "\n- Each ingredient is the epoch its own run kept; settings that differ from the first"
        " ingredient's (above) are listed with it."
        if cfg and data
        else "- Students distilled by `relsearch distill`: each ingredient's own model card has its recipe."
        if "distillation" in first_meta
        else "- The ingredients' training recipe is not recorded in their delta files."
    )
    averaged = "models" if encoder.head is None else "models (encoder and relation head)"
    ingredients = "\n".join(f"  - `{_run_label(s)}`{_differences(s, cfg)}" for s in result.chosen)
    method = (
        "greedy soup: candidates ranked by validation mean, each added only if the average's "
        "validation mean does not drop"
        if result.method == "greedy"
        else "uniform soup: every candidate, equally weighted"
    )
    if len(result.chosen) == 1:
        title = f"the best of {len(result.ingredients)} runs (no weight average of them scored higher)"
    else:
        title = f"a soup of {len(result.chosen)} runs"
    return f"""# RelBERT-style relation model on {base}: {title}

Relation embeddings for word pairs: `relsearch` fills a prompt template with the pair, runs
this encoder and pools the last hidden states into one vector per pair; pairs in the same
relation (barista:coffee, baker:bread) get close vectors (cosine).

- **Base model:** `{base}`
- **Template:** {_template_id(encoder.template)}: `{encoder.template}`
- **Pooling:** `{encoder.aggregation}` ({POOLING_TEXT.get(encoder.aggregation, "")}; use cosine
  similarity){_hybrid_line(hybrid)}
- **Weights:** the element-wise mean of {len(result.chosen)} {averaged} fine-tuned from the same base
  ({method}):
{ingredients}
- **Files:** delta export (int8 codes of each trained matrix's difference to the base model, one
  scale per row; vectors in float32)
- **Written by:** relsearch {__version__}, `relsearch soup`

## Recipe of the ingredients (RelBERT 2.x)

{recipe}

## Validation (prompt-vector analogy accuracy %)

{validation_table(result)}

Test splits were never read to make or choose the soup.

## Test-set evaluation

{TEST_EVAL_BEGIN}
_Not filled in by `relsearch soup`: add the test-split results (`relsearch eval ...`) here._
{TEST_EVAL_END}

{USE_TEXT}"""
