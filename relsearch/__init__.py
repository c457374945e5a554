"""relsearch: relational nearest-neighbour search over word pairs (RelBERT + FAISS).

Importing relsearch is light: ``RelationIndex`` and ``Hit`` (faiss, pyarrow) and ``RelationEncoder``
(torch, transformers) load on first use, and searching pairs an index holds never imports torch.
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
    from relsearch.index.hit import Hit
    from relsearch.index.relation_index import RelationIndex

_LAZY = {
    "RelationEncoder": "relsearch.encoding",
    "RelationIndex": "relsearch.index.relation_index",
    "Hit": "relsearch.index.hit",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'relsearch' has no attribute {name!r}")


__all__ = [
    "TEMPLATES",
    "DataFormatError",
    "Hit",
    "IndexFormatError",
    "InvalidPairError",
    "ModelLoadError",
    "RelationEncoder",
    "RelationIndex",
    "RelsearchError",
    "TemplateError",
    "__version__",
    "format_pair",
    "parse_pair",
    "parse_pairs",
]
