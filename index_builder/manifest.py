"""``relsearch.json``: the manifest, written last and atomically (its existence = a complete index)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
from pathlib import Path
from typing import Any

from relsearch.index.format import FORMAT_NAME, FORMAT_VERSION, MANIFEST_FILE, write_json_atomic

LIBRARIES = ("relsearch", "faiss-cpu", "numpy", "pyarrow", "torch", "transformers")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that shape an index (None where not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_manifest(
    *,
    encoder: dict[str, Any],
    faiss_info: dict[str, Any],
    counts: dict[str, int],
    shard_size: int,
    input_info: dict[str, Any],
    build: dict[str, Any],
) -> dict[str, Any]:
    """The manifest as ``relsearch.index.format`` documents it."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "encoder": encoder,
        "faiss": faiss_info,
        "counts": counts,
        "shard_size": shard_size,
        "input": input_info,
        "build": build,
        "versions": library_versions(),
    }


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    path = out_dir / MANIFEST_FILE
    write_json_atomic(path, manifest)
    return path
