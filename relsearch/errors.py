"""The one exception family of relsearch: every user-facing failure is a ``RelsearchError``."""

from __future__ import annotations


class RelsearchError(Exception):
    """Base class: the message says what was wrong and how to fix it."""


class InvalidPairError(RelsearchError, ValueError):
    """A word pair that cannot be parsed or encoded."""


class TemplateError(RelsearchError, ValueError):
    """A prompt template without the placeholders it needs."""


class ModelLoadError(RelsearchError):
    """A model that cannot be found or loaded (missing files, offline hub id, bad config)."""


class DataFormatError(RelsearchError, ValueError):
    """An input file (vocabulary, pairs, benchmark) that is missing or malformed."""


class IndexFormatError(RelsearchError):
    """An index directory that is missing, incomplete, foreign or from a newer format."""


class DamagedFileError(IndexFormatError):
    """A file of an index that is missing, truncated, altered or holds non-finite vectors.

    ``file`` is its name inside the index directory; the message says what to do about it.
    """

    def __init__(self, file: str, problem: str, index_dir: str | None = None) -> None:
        self.file, self.problem, self.index_dir = file, problem, index_dir
        super().__init__(self._message())

    def _message(self) -> str:
        from relsearch.storage.repair_hint import repair_hint

        where = f" in {self.index_dir}" if self.index_dir else ""
        return f"{self.file}{where} {self.problem}: {repair_hint(self.file, self.index_dir)}"

    def at(self, index_dir: str | object) -> DamagedFileError:
        """The same error, naming the index directory."""
        return DamagedFileError(self.file, self.problem, str(index_dir))


class IndexLockedError(RelsearchError):
    """Another process is writing the index directory (a build, an update or a verify)."""


class DiskFullError(RelsearchError, OSError):
    """The disk filled up while relsearch was writing; the message says where and how much."""
