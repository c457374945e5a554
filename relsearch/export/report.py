"""What an export wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from relsearch.pairs import Pair


@dataclass
class ExportReport:
    """``written`` vectors of ``dim`` to ``path`` in ``format``; ``skipped`` pairs had no usable key."""

    path: Path
    format: str
    written: int
    dim: int
    skipped: list[Pair] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size
