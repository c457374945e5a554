"""The only subpackage that imports torch and transformers."""

from relsearch.encoding.encoder import RelationEncoder

__all__ = ["RelationEncoder"]
