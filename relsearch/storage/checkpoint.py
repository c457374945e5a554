"""``embeddings/checkpoint.json``: what a running build (or update) is made from, and the record
of every file it has finished.

Written first (before any shard) and rewritten after each finished file, atomically; removed
once the manifest is written. A resume must match its encoder, input and shard size, and
re-checks every kept shard against its record: a shard without a record (written by a process
killed before it could record it) is encoded again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relsearch.errors import IndexFormatError
from relsearch.storage.atomic import write_json_atomic
from relsearch.storage.checksums import FileRecord, records_to_dict
from relsearch.storage.layout import CHECKPOINT_FILE, EMBEDDINGS_DIR
from relsearch.storage.manifest import now_utc

CHECKPOINT_FORMAT = "relsearch-checkpoint"


@dataclass
class Checkpoint:
    """A partial build: encoder, input, pair count, shard size, dim, and finished files' records."""

    encoder: dict[str, Any]
    input: dict[str, Any]
    pairs: int
    shard_size: int
    dim: int
    created: str = ""
    files: dict[str, FileRecord] = field(default_factory=dict)

    @staticmethod
    def path(out_dir: Path) -> Path:
        return out_dir / EMBEDDINGS_DIR / CHECKPOINT_FILE

    def write(self, out_dir: Path) -> None:
        self.created = self.created or now_utc()
        payload = {
            "format": CHECKPOINT_FORMAT,
            "format_version": 2,
            "encoder": self.encoder,
            "input": self.input,
            "pairs": self.pairs,
            "shard_size": self.shard_size,
            "dim": self.dim,
            "created": self.created,
            "files": records_to_dict(self.files.items()),
        }
        write_json_atomic(self.path(out_dir), payload)

    def record(self, out_dir: Path, name: str, record: FileRecord) -> None:
        """Note that ``name`` is finished (and what it holds), durably."""
        self.files[name] = record
        self.write(out_dir)

    @classmethod
    def read(cls, out_dir: Path) -> Checkpoint:
        path = cls.path(out_dir)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("not a relsearch checkpoint")
            files = {}
            for name, entry in (raw.get("files") or {}).items():
                record = FileRecord.from_dict(entry)
                if record is not None:
                    files[name] = record
            return cls(
                raw["encoder"],
                raw["input"],
                raw["pairs"],
                raw["shard_size"],
                raw["dim"],
                raw["created"],
                files,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexFormatError(
                f"cannot read the build checkpoint {path} ({exc}); pass --overwrite to start over"
            ) from None

    def mismatch(self, other: Checkpoint) -> str | None:
        """Why a build described by ``other`` cannot resume this one, or None."""
        if self.input.get("fingerprint") != other.input.get("fingerprint"):
            return (
                f"it was started from different input ({_describe_input(self.input)}; this run: "
                f"{_describe_input(other.input)})"
            )
        if self.encoder.get("fingerprint") != other.encoder.get("fingerprint"):
            return (
                f"it was started with another model ({self.encoder.get('model')}, fingerprint "
                f"{str(self.encoder.get('fingerprint'))[:12]}; this run: {other.encoder.get('model')}, "
                f"{str(other.encoder.get('fingerprint'))[:12]}); re-run with that model to resume"
            )
        if self.shard_size != other.shard_size:
            return f"it was started with --shard-size {self.shard_size} (this run: {other.shard_size})"
        return None


def _describe_input(info: dict[str, Any]) -> str:
    text = f"{info.get('kind')} {info.get('source')}"
    if info.get("kind") == "vocab":
        text += f", k={info.get('k')}" if not info.get("all_pairs") else ", all pairs"
    return f"{text}, fingerprint {str(info.get('fingerprint'))[:12]}"
