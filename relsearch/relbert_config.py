"""Reading and writing the ``relbert_config`` block of a checkpoint's ``config.json``.

Newer RelBERT checkpoints use ``{"aggregation_mode", "template"}``; older ones
``{"mode", "template", "template_mode"}``. Both are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relsearch.errors import TemplateError
from relsearch.templates import (
    DEFAULT_AGGREGATION,
    TEMPLATES,
    resolve_template,
    validate_aggregation,
)

DEFAULT_TEMPLATE_ID = "a"

#: relsearch's extension: mix the cosine of word-vector differences into the relation vector.
WORD_WEIGHT_KEY = "word_difference_weight"
#: relsearch's extension: the model whose single-word vectors make the word-difference part
#: (a model spec; a relative path is relative to the model directory). Default: the model itself.
WORD_MODEL_KEY = "word_model"


@dataclass(frozen=True)
class RelbertSettings:
    """What turns a pair into a vector, besides the weights."""

    template: str
    aggregation: str
    max_length: int = 64
    #: Weight of the word-difference cosine in relsearch's hybrid vectors (0 = pure RelBERT).
    word_weight: float = 0.0
    #: Model spec of the word vectors of hybrid vectors (None: the relation model itself).
    word_model: str | None = None


def settings_from_config(
    raw: dict[str, Any] | None,
    *,
    template: str | None = None,
    aggregation: str | None = None,
    max_length: int | None = None,
    word_weight: float | None = None,
    word_model: str | None = None,
) -> RelbertSettings:
    """Merge a checkpoint's ``relbert_config`` (either key style) with explicit overrides."""
    raw = dict(raw or {})
    tmpl = template or raw.get("template")
    if not tmpl:
        mode_id = raw.get("template_mode")
        tmpl = TEMPLATES.get(mode_id, None) if isinstance(mode_id, str) else None
    tmpl = resolve_template(tmpl or TEMPLATES[DEFAULT_TEMPLATE_ID])
    agg = aggregation or raw.get("aggregation_mode") or raw.get("mode") or DEFAULT_AGGREGATION
    length = int(max_length or raw.get("max_length") or 64)
    weight = float(raw.get(WORD_WEIGHT_KEY, 0.0) if word_weight is None else word_weight)
    if not 0.0 <= weight < 1.0:
        raise TemplateError(f"{WORD_WEIGHT_KEY} must be in [0, 1), got {weight}")
    words = word_model or raw.get(WORD_MODEL_KEY) or None
    if words is not None and not isinstance(words, str):
        raise TemplateError(f"{WORD_MODEL_KEY} must be a model spec string, got {words!r}")
    return RelbertSettings(
        template=tmpl,
        aggregation=validate_aggregation(agg, tmpl),
        max_length=length,
        word_weight=weight,
        word_model=words,
    )


def config_block(settings: RelbertSettings) -> dict[str, Any]:
    """The block written into ``config.json``: new keys, plus ``mode`` for older readers."""
    block: dict[str, Any] = {
        "aggregation_mode": settings.aggregation,
        "mode": settings.aggregation,
        "template": settings.template,
        "max_length": settings.max_length,
    }
    if settings.word_weight:
        block[WORD_WEIGHT_KEY] = settings.word_weight
    if settings.word_model:
        block[WORD_MODEL_KEY] = settings.word_model
    return block
