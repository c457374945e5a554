"""relsearch: relational nearest-neighbour search over word pairs (RelBERT + FAISS).

Importing relsearch is light: ``RelationEncoder`` (torch, transformers) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relsearch.errors import (
    DataFormatError,
    IndexFormatError,
    InvalidPairError,
    ModelLoadError,
    RelsearchError,
    TemplateError,
)
from relsearch.pairs import format_pair, parse_pair, parse_pairs
from relsearch.templates import TEMPLATES

__version__ = "0.1.0"

if TYPE_CHECKING:
    from relsearch.encoding import RelationEncoder

_LAZY = {"RelationEncoder": "relsearch.encoding"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'relsearch' has no attribute {name!r}")


__all__ = [
    "TEMPLATES",
    "DataFormatError",
    "IndexFormatError",
    "InvalidPairError",
    "ModelLoadError",
    "RelationEncoder",
    "RelsearchError",
    "TemplateError",
    "__version__",
    "format_pair",
    "parse_pair",
    "parse_pairs",
]
