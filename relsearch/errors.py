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
