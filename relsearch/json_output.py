"""The JSON objects that ``--json`` prints and ``relsearch serve`` returns (one builder for both).

- a query: a list of :meth:`Hit.to_dict` objects; several queries: ``{"query": "a:b", "hits": [...]}``
- an analogy: the same hit objects plus ``"answer"`` (the hit's tail for C:?, its head for ?:D)
- an index: ``{"path", "disk_bytes", "manifest"}``
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from relsearch.index.hit import Hit
from relsearch.pairs import Pair, format_pair


def hit_dicts(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """The hits of one query."""
    return [hit.to_dict() for hit in hits]


def query_result(pair: Pair, hits: Sequence[Hit]) -> dict[str, Any]:
    """One query of several: the query pair (escaped as on the command line) and its hits."""
    return {"query": format_pair(pair), "hits": hit_dicts(hits)}


def analogy_dicts(hits: Sequence[Hit], answer_side: str) -> list[dict[str, Any]]:
    """Analogy hits with ``answer``: the tail (``answer_side="tail"``, for C:?) or the head (?:D)."""
    return [{**hit.to_dict(), "answer": hit.tail if answer_side == "tail" else hit.head} for hit in hits]


def disk_usage(path: Path, manifest: dict[str, Any] | None = None) -> dict[str, int]:
    """Bytes per part of the index directory: the files its manifest names (an updated index
    names generation files such as ``pairs.g2.parquet``)."""
    from relsearch.storage.manifest import disk_usage as usage
    from relsearch.storage.manifest import read_manifest

    return usage(path, manifest if manifest is not None else read_manifest(path))


def index_info(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """What ``relsearch info --json`` prints: the resolved path, sizes on disk, the manifest."""
    return {"path": str(path.resolve()), "disk_bytes": disk_usage(path, manifest), "manifest": manifest}
