"""RelBERT prompt templates (byte-exact copies of the published ones) and prompt filling."""

from __future__ import annotations

from relsearch.errors import TemplateError

SUBJ, OBJ, MASK = "<subj>", "<obj>", "<mask>"

#: The five published templates; note the double space before "is" in b and e and U+2019 in d, e.
TEMPLATES: dict[str, str] = {
    "a": "Today, I finally discovered the relation between <subj> and <obj> : <subj> is the <mask> of <obj>",
    "b": "Today, I finally discovered the relation between <subj> and <obj> : <obj>  is <subj>'s <mask>",
    "c": "Today, I finally discovered the relation between <subj> and <obj> : <mask>",
    "d": "I wasn’t aware of this relationship, but I just read in the encyclopedia that <subj> is the <mask> of <obj>",
    "e": "I wasn’t aware of this relationship, but I just read in the encyclopedia that <obj>  is <subj>’s <mask>",
}

AGGREGATIONS = ("average_no_mask", "average", "mask")
DEFAULT_AGGREGATION = "average_no_mask"


def resolve_template(template: str) -> str:
    """Accept a template id (``"a"``…``"e"``) or a full template; validate its placeholders."""
    text = TEMPLATES.get(template, template)
    missing = [p for p in (SUBJ, OBJ) if p not in text]
    if missing:
        raise TemplateError(
            f"template {text!r} lacks {' and '.join(missing)}; a template needs <subj> and <obj> "
            f"(and <mask> for mask pooling), or use one of the ids {sorted(TEMPLATES)}"
        )
    return text


def validate_aggregation(aggregation: str, template: str) -> str:
    """Check the pooling mode name, and that ``mask`` pooling has a mask to pool."""
    if aggregation not in AGGREGATIONS:
        raise TemplateError(f"unknown pooling mode {aggregation!r}; valid modes: {', '.join(AGGREGATIONS)}")
    if aggregation == "mask" and MASK not in template:
        raise TemplateError(f"pooling mode 'mask' needs a template with {MASK}: {template!r}")
    return aggregation


def fill_template(template: str, head: str, tail: str, mask_token: str) -> str:
    """Build the prompt for one pair. Words go in verbatim (callers validate them)."""
    return template.replace(MASK, mask_token).replace(SUBJ, head).replace(OBJ, tail)
