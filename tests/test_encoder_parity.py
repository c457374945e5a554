"""Parity of RelationEncoder with a straightforward re-implementation of the RelBERT reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import build_tiny_model
from transformers import AutoModel, AutoTokenizer

from relsearch import RelationEncoder
from relsearch.templates import TEMPLATES

PAIRS = [
    ("barista", "coffee"),
    ("baker", "bread"),
    ("brewer", "beer"),
    ("king", "queen"),
    ("café", "crème brûlée"),
    ("Paris", "France"),
    ("dog", "puppy"),
    ("winemaker", "wine"),
]


def reference_vectors(model_dir: Path, template: str, mode: str, pairs: list[tuple[str, str]]) -> np.ndarray:
    """The reference algorithm: pad every prompt to 64, sum last hidden states, normalise."""
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    prompts = [
        template.replace("<subj>", h).replace("<obj>", t).replace("<mask>", tok.mask_token) for h, t in pairs
    ]
    enc = tok(prompts, padding="max_length", max_length=64, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    is_mask = enc["input_ids"] == tok.mask_token_id
    real = enc["attention_mask"].bool()
    keep = {"average": real, "average_no_mask": real & ~is_mask, "mask": is_mask}[mode]
    summed = (hidden * keep.unsqueeze(-1)).sum(1).numpy()
    return summed / np.linalg.norm(summed, axis=1, keepdims=True)


@pytest.fixture(scope="module", params=["roberta", "bert"])
def model_dirs(request, tmp_path_factory) -> dict[str, Path]:
    """One tiny model per config key style (same weights)."""
    root = tmp_path_factory.mktemp(f"parity-{request.param}")
    return {
        style: build_tiny_model(root / style, kind=request.param, relbert_config=None, seed=3)
        for style in ("new", "old")
    }


def _write_config(model_dir: Path, style: str, template: str, mode: str) -> None:
    import json

    cfg_path = model_dir / "config.json"
    cfg = json.loads(cfg_path.read_text())
    if style == "new":
        cfg["relbert_config"] = {"aggregation_mode": mode, "template": template}
    else:
        cfg["relbert_config"] = {"mode": mode, "template": template, "template_mode": "manual"}
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False))


@pytest.mark.parametrize("template_id", ["a", "d", "e"])
@pytest.mark.parametrize("mode", ["average_no_mask", "average", "mask"])
@pytest.mark.parametrize("style", ["new", "old"])
def test_matches_reference(model_dirs, template_id, mode, style):
    model_dir = model_dirs[style]
    template = TEMPLATES[template_id]
    _write_config(model_dir, style, template, mode)
    encoder = RelationEncoder(model_dir)
    assert encoder.template == template and encoder.aggregation == mode
    got = encoder.encode(PAIRS, batch_size=3)
    want = reference_vectors(model_dir, template, mode, PAIRS)
    cosines = (got * want).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_explicit_arguments_override_config(tiny_model_dir):
    enc = RelationEncoder(tiny_model_dir, template="d", aggregation="mask", max_length=32)
    assert enc.template == TEMPLATES["d"]
    assert enc.aggregation == "mask" and enc.max_length == 32


def test_old_template_mode_id_is_accepted(tmp_path):
    model_dir = build_tiny_model(tmp_path / "m", relbert_config={"mode": "mask", "template_mode": "c"})
    enc = RelationEncoder(model_dir)
    assert enc.template == TEMPLATES["c"] and enc.aggregation == "mask"


def test_missing_relbert_config_uses_template_a_and_default_pooling(tmp_path):
    enc = RelationEncoder(build_tiny_model(tmp_path / "m", relbert_config=None))
    assert enc.template == TEMPLATES["a"] and enc.aggregation == "average_no_mask"
