"""Shared fixtures: tiny in-process models saved to temp dirs."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# backend calibrations and OpenVINO exports of the tests' tiny models stay out of the user's cache
os.environ.setdefault("RELSEARCH_CALIBRATION_FILE", tempfile.mktemp(prefix="relsearch-test-", suffix=".json"))
os.environ.setdefault("RELSEARCH_OPENVINO_DIR", tempfile.mktemp(prefix="relsearch-test-openvino-"))

from tiny_models import build_tiny_model

from relsearch.templates import TEMPLATES

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny RoBERTa with a new-style relbert_config (template a, average_no_mask)."""
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny") / "model",
        relbert_config={"aggregation_mode": "average_no_mask", "template": TEMPLATES["a"]},
    )


@pytest.fixture(scope="session")
def tiny_encoder(tiny_model_dir: Path):
    from relsearch import RelationEncoder

    return RelationEncoder(tiny_model_dir)
