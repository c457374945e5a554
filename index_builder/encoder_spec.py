"""``EncoderSpec``: how to build an encoder in another process (an import path and JSON-able arguments).

A distributed worker must not receive a live torch model; it receives this small recipe and
builds its own encoder (``RelationEncoder`` from a model path, or any importable class, such
as a test's fake encoder).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from relsearch.errors import RelsearchError

RELATION_ENCODER = "relsearch.encoding:RelationEncoder"


@dataclass(frozen=True)
class EncoderSpec:
    """``factory`` is ``"module:name"`` of a callable returning an encoder; ``kwargs`` its arguments."""

    factory: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def relation_encoder(
        cls, model: str, *, dtype: str, batch_size: int, backend: str = "torch"
    ) -> EncoderSpec:
        """A ``RelationEncoder`` of ``model`` (resolved: ``pypi:…``, an absolute path or a hub id)."""
        kwargs: dict[str, Any] = {"model_name_or_path": model, "dtype": dtype, "batch_size": batch_size}
        if backend != "torch":
            kwargs["backend"] = backend
        return cls(RELATION_ENCODER, kwargs)

    def create(self) -> Any:
        """Import the factory and call it with ``kwargs``."""
        module_name, _, name = self.factory.partition(":")
        if not module_name or not name:
            raise RelsearchError(f"encoder factory {self.factory!r} must look like 'package.module:Name'")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise RelsearchError(
                f"cannot import {module_name!r} for the encoder factory {self.factory!r} ({exc}); it must be "
                "importable where the encoder is built (on every Ray node for --engine ray)"
            ) from None
        factory = getattr(module, name, None)
        if not callable(factory):
            raise RelsearchError(f"{module_name!r} has no callable {name!r}")
        return factory(**self.kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {"factory": self.factory, "kwargs": dict(self.kwargs)}
