"""The model card (README.md) written next to an exported model."""

from __future__ import annotations

from typing import Any

from relsearch.templates import TEMPLATES
from relsearch.training.validation import VALID_SETS

TEST_EVAL_BEGIN = "<!-- relsearch:test-eval:begin -->"
TEST_EVAL_END = "<!-- relsearch:test-eval:end -->"


SET_LABELS = {
    "u2": "U2",
    "u4": "U4",
    "google": "Google",
    "bats": "BATS",
    "t_rex": "T-REX",
    "conceptnet": "ConceptNet",
}


POOLING_TEXT = {
    "average_no_mask": "sum of the last hidden states over every token except padding and the mask token",
    "average": "sum of the last hidden states over every token except padding",
    "mask": "the last hidden state of the mask token",
}


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.4f}"


def _template_id(text: str) -> str:
    return next((k for k, v in TEMPLATES.items() if v == text), "custom")


def epoch_table(history: list[dict[str, Any]], best_epoch: int | None) -> str:
    """Markdown table of per-epoch validation results (epoch 0 = untrained); the kept epoch is bold."""
    head = "| epoch | train loss | held-out loss | " + " | ".join(SET_LABELS.get(s, s) for s in VALID_SETS)
    lines = [head + " | mean | seconds |", "|" + "---|" * (len(VALID_SETS) + 5)]
    for rec in history:
        acc = rec["analogy"]
        mark = "**" if rec["epoch"] == best_epoch else ""
        cells = [
            f"{mark}{rec['epoch']}{mark}",
            _num(rec["train_loss"]),
            _num(rec["valid_loss"]),
            *[_pct(acc.get(s)) for s in VALID_SETS],
            f"{mark}{_pct(rec['mean_analogy'])}{mark}",
            f"{rec['seconds']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_card(info: dict[str, Any]) -> str:
    """Card text from the run info: base, recipe, hyper-parameters, data, timing, validation."""
    cfg = info["config"]
    data = info["data"]
    split = info["split"]
    best = info.get("best_epoch")
    hours = info.get("train_seconds", 0.0) / 3600
    template = info["template"]
    if not split.get("embeddings_frozen", split["frozen_layers"] > 0):
        trained = "all layers (embeddings included)"
    elif split["frozen_layers"] == 0:
        trained = f"all {split['layers']} transformer layers (embeddings frozen)"
    else:
        trained = (
            f"the top {split['trained_layers']} of {split['layers']} transformer layers "
            f"(bottom {split['frozen_layers']} layers and embeddings frozen)"
        )
    return f"""# RelBERT-style relation model on {cfg["base"]}

Relation embeddings for word pairs: `relsearch` fills a prompt template with the pair, runs
this encoder and pools the last hidden states into one vector per pair; pairs in the same
relation (barista:coffee, baker:bread) get close vectors (cosine).

- **Base model:** `{cfg["base"]}`
- **Template:** {_template_id(template)}: `{template}`
- **Pooling:** `{info["aggregation"]}` ({POOLING_TEXT.get(info["aggregation"], "")}; use cosine
  similarity)
- **Trained:** {trained}; {info.get("trained_parameters", 0):,} parameters
- **Files:** {info.get("export_kind", "delta")} export ({info.get("export_note", "")})
- **Written by:** relsearch {info["relsearch_version"]}, `relsearch train`

## Recipe (RelBERT 2.x)

{recipe_text(cfg, data)}
- Training time: {hours:.2f} h on {info.get("hardware", "CPU")}.

## Validation (analogy accuracy %, held-out SemEval InfoNCE loss)

Kept epoch: **{best}**.

{epoch_table(info["history"], best)}

## Test-set evaluation

{TEST_EVAL_BEGIN}
_Not filled in by training: add the test-split results (`relsearch eval ...`) here._
{TEST_EVAL_END}

{USE_TEXT}"""


def _schedule_text(cfg: dict[str, Any]) -> str:
    if cfg.get("schedule", "constant") == "linear":
        return "linear decay to 0 at the last step"
    return "constant"


def _selection_text(cfg: dict[str, Any]) -> str:
    if cfg.get("select", "best") == "last":
        return "the last epoch (`--select last`), whatever its score on the *validation*"
    return "the epoch with the best unweighted mean accuracy over the *validation*"


def recipe_text(cfg: dict[str, Any], data: dict[str, Any]) -> str:
    """The recipe bullets (data, loss, optimiser, selection) of a training config."""
    return f"""- Data: SemEval-2012 Task 2 gold ratings, {data["subcategories"]} relations plus
  {data["parents"]} parent categories as extra relations ({data["relations"]} in all,
  {data["distinct_pairs"]} distinct pairs). Positives: the 10 highest-scoring pairs with a score
  above 0; negatives: the relation's pairs scored below 0 plus the positives of every other
  relation (parents: the positives of the other parents' children). A seeded
  {100 * cfg["valid_fraction"]:.0f}% of each relation's positives was held out
  ({data["train_positives"]} train / {data["valid_positives"]} held-out positives over the subcategories).
- Loss: InfoNCE over cosine similarity, temperature {cfg["temperature"]}, averaged over ordered
  positive pairs (i, j), i != j, with every sampled negative in the denominator.
- Optimiser: AdamW, lr {cfg["lr"]}, no weight decay, {cfg["warmup"]} linear warm-up steps then
  {_schedule_text(cfg)}; one step per relation per epoch (shuffled), all train positives plus up to
  {cfg["negatives"]} sampled negatives per step; {cfg["epochs"]} epochs; seed {cfg["seed"]};
  precision {cfg["dtype"]}.
- Model selection: {_selection_text(cfg)} splits of
  {", ".join(SET_LABELS.get(s, s) for s in VALID_SETS)} (analogy questions); test splits were
  never used."""


USE_TEXT = """## Use

```python
from relsearch import RelationEncoder

enc = RelationEncoder("path/to/this/directory")
vectors = enc.encode(["barista:coffee", "baker:bread"])
```

Licence of the base weights: see the base model (all-mpnet-base-v2 and all-MiniLM-L6-v2 are
Apache-2.0). SemEval-2012 Task 2 data: CC BY-SA 3.0.
"""
