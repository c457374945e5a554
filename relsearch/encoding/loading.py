"""Resolving a model spec (default, PyPI base model, local directory, hub id) and loading it."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relsearch.base_models import BASE_MODELS, base_model_dir
from relsearch.default_model import DEFAULT_MODEL_ALIASES, SHIPPED_ALIASES, default_model_spec
from relsearch.errors import ModelLoadError

#: A model directory holding only fine-tuned tensors on top of a base model has this file.
DELTA_FILE = "relsearch_delta.json"


@dataclass
class LoadedModel:
    """A transformers model and tokenizer, with where they came from."""

    model: Any
    tokenizer: Any
    relbert_config: dict[str, Any] | None
    source: str
    local_dir: Path | None
    head: Any = None  # torch.nn.Linear after pooling (a distilled model), or None


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' weight-loading progress bars and warnings for the duration."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def resolve_spec(spec: str | os.PathLike[str] | None) -> tuple[str, Path | None]:
    """Return ``(source, local_dir)``; ``local_dir`` is None for a hub id."""
    if spec is None or str(spec) in DEFAULT_MODEL_ALIASES:
        spec = default_model_spec()
    text = str(spec)
    if text in SHIPPED_ALIASES:
        shipped = SHIPPED_ALIASES[text]
        if not (shipped / "config.json").is_file():
            raise ModelLoadError(f"the shipped model {text!r} is not in {shipped} (is this a full clone?)")
        return str(shipped.resolve()), shipped.resolve()
    name = text.removeprefix("pypi:")
    if text.startswith("pypi:") or name in BASE_MODELS:
        return f"pypi:{name}", base_model_dir(name)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelLoadError(f"model directory {text!r} has no config.json")
        return str(path.resolve()), path.resolve()
    if path.exists() or text.startswith((".", "/", "~")) or text.count("/") > 1 or os.sep + os.sep in text:
        raise ModelLoadError(f"model directory {text!r} does not exist")
    return text, None


def relative_spec(spec: str, model_dir: Path | None) -> str:
    """``spec`` as written in a model's config: a path starting with ``.`` is relative to ``model_dir``."""
    return str(model_dir / spec) if model_dir is not None and spec.startswith(".") else spec


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from exc


def delta_base_spec(spec: str | os.PathLike[str] | None) -> str | None:
    """The base model spec a delta directory builds on (reads one JSON file), or None."""
    _, local_dir = resolve_spec(spec)
    if local_dir is None or not (local_dir / DELTA_FILE).exists():
        return None
    base = _read_json(local_dir / DELTA_FILE).get("base")
    if not isinstance(base, str):
        raise ModelLoadError(f"{local_dir / DELTA_FILE} names no base model")
    return base


def _load_delta(local_dir: Path) -> tuple[Any, Any]:
    """Load a base model and overwrite the tensors a delta directory ships."""
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    from relsearch.encoding import residual_delta

    meta = _read_json(local_dir / DELTA_FILE)
    _, base_dir = resolve_spec(meta["base"])
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModel.from_pretrained(base_dir)
    delta = load_file(str(local_dir / meta.get("weights", "delta.safetensors")))
    state = model.state_dict()
    residual = meta.get("dtype") == residual_delta.ENCODING
    names = residual_delta.stored_names(delta) if residual else sorted(delta)
    unknown = [n for n in names if n not in state]
    if unknown:
        raise ModelLoadError(f"{local_dir}: delta tensors not in the base model: {unknown[:5]}")
    if residual:
        try:
            delta = residual_delta.decode_residual(delta, state)
        except (KeyError, RuntimeError) as exc:
            raise ModelLoadError(f"{local_dir}: damaged residual delta ({exc})") from exc
    model.load_state_dict({k: v.to(state[k].dtype) for k, v in delta.items()}, strict=False)
    return model, tokenizer


def load_pretrained(spec: str | os.PathLike[str] | None) -> LoadedModel:
    """Load tokenizer and encoder (``AutoModel``: hidden states, no MLM head) for ``spec``."""
    source, local_dir = resolve_spec(spec)
    from transformers import AutoModel, AutoTokenizer

    with quiet_transformers():
        if local_dir is not None:
            try:
                if (local_dir / DELTA_FILE).exists():
                    model, tokenizer = _load_delta(local_dir)
                else:
                    tokenizer = AutoTokenizer.from_pretrained(local_dir)
                    model = AutoModel.from_pretrained(local_dir)
            except (OSError, ValueError, KeyError) as exc:
                raise ModelLoadError(f"cannot load the model in {local_dir}: {exc}") from exc
            relbert = _read_json(local_dir / "config.json").get("relbert_config")
        else:
            try:
                tokenizer = AutoTokenizer.from_pretrained(source)
                model = AutoModel.from_pretrained(source)
            except (OSError, ValueError) as exc:
                offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
                why = "HF_HUB_OFFLINE is set" if offline else "the hub could not be reached"
                raise ModelLoadError(
                    f"cannot load {source!r} from the Hugging Face hub ({why}) and it is not in the "
                    "local cache. Needed: config.json (with relbert_config), the tokenizer files and "
                    "the weights (model.safetensors or pytorch_model.bin). Download them where the hub "
                    f"is reachable (`hf download {source} --local-dir DIR`) and pass --model DIR."
                ) from exc
            relbert = getattr(model.config, "relbert_config", None)
    if tokenizer.mask_token is None:
        raise ModelLoadError(f"the tokenizer of {source!r} has no mask token; RelBERT prompts need one")
    from relsearch.encoding.relation_head import load_head

    model.eval()
    head = load_head(local_dir, int(model.config.hidden_size))
    return LoadedModel(model, tokenizer, relbert, source, local_dir, head)
