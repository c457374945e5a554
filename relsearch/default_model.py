"""Where the default relation model and shipped data live (no heavy imports)."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository's data/ folder (an editable install keeps it next to the package).
DATA_DIR = Path(os.environ.get("RELSEARCH_DATA") or Path(__file__).resolve().parent.parent / "data")

#: The shipped fine-tuned relation model (a delta over a PyPI-shipped base encoder).
SHIPPED_MODEL_DIR = DATA_DIR / "model"

#: The shipped distilled model (``--model fast``): a small student of the default model.
FAST_MODEL_DIR = DATA_DIR / "fast"

#: Names that stand for a shipped model directory (write ``./fast`` for a folder of that name).
SHIPPED_ALIASES = {"fast": FAST_MODEL_DIR}

#: Used until a fine-tuned model is shipped: the base encoder with RelBERT's template a.
FALLBACK_MODEL = "pypi:all-mpnet-base-v2"

DEFAULT_MODEL_ALIASES = (None, "", "default")


def default_model_spec() -> str:
    """The model used without ``--model``: ``$RELSEARCH_MODEL``, the shipped model, or the fallback."""
    env = os.environ.get("RELSEARCH_MODEL")
    if env:
        return env
    if (SHIPPED_MODEL_DIR / "config.json").exists():
        return str(SHIPPED_MODEL_DIR)
    return FALLBACK_MODEL
