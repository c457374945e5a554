"""``verified.json``: when ``relsearch verify`` last checked the index, and what it found.

It names the manifest it checked by checksum, so a record left from before an update or a
rebuild is not taken for the current index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from relsearch.storage.atomic import write_json_atomic
from relsearch.storage.checksums import digest
from relsearch.storage.layout import MANIFEST_FILE, VERIFIED_FILE


def manifest_digest(index_dir: Path) -> str | None:
    try:
        return digest((index_dir / MANIFEST_FILE).read_bytes())
    except OSError:
        return None


def write_verify_record(index_dir: Path, record: dict[str, Any]) -> None:
    """Store ``record`` (``verified``, ``ok``, ``files``, ``bytes``, ``problems``) for this manifest."""
    write_json_atomic(index_dir / VERIFIED_FILE, {**record, "manifest_xxh3_128": manifest_digest(index_dir)})


def read_verify_record(index_dir: Path) -> dict[str, Any] | None:
    """The last verify record of the current manifest, or None (never verified, or changed since)."""
    try:
        record = json.loads((index_dir / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("manifest_xxh3_128") != manifest_digest(index_dir):
        return None
    return record
