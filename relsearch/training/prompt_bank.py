"""Every distinct training/validation pair, tokenised once, with its cached bottom-layer states.

Prompts and token ids come from the :class:`RelationEncoder` itself (template filling,
truncation), batches from ``encoding.batching`` and pooling from ``encoding.pooling``, so the
vectors seen in training are the ones the encoder produces at inference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from relsearch.encoding import RelationEncoder
from relsearch.encoding.batching import length_sorted_batches, pad_batch
from relsearch.encoding.pooling import pool
from relsearch.pairs import Pair
from relsearch.training.layer_split import LayerSplit


class PromptBank:
    """Token ids (and, when the split allows it, bottom-layer states) per distinct pair."""

    def __init__(
        self,
        encoder: RelationEncoder,
        split: LayerSplit,
        pairs: Sequence[Pair],
        *,
        batch_size: int = 64,
        bf16: bool = False,
    ) -> None:
        self.encoder = encoder
        self.split = split
        self.batch_size = batch_size
        self.bf16 = bf16
        self.pairs = list(dict.fromkeys(pairs))
        self.index = {p: i for i, p in enumerate(self.pairs)}
        self.ids = encoder._tokenize([encoder.prompt(p) for p in self.pairs])
        self.mask_id = int(encoder.tokenizer.mask_token_id)
        pad = encoder.tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else 0)
        self.states: list[torch.Tensor] | None = None
        self.device = encoder.device

    def __len__(self) -> int:
        return len(self.pairs)

    def indices(self, pairs: Sequence[Pair]) -> list[int]:
        return [self.index[p] for p in pairs]

    def _autocast(self, enabled: bool) -> contextlib.AbstractContextManager[None]:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def _padded(self, batch: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, att = pad_batch([self.ids[i] for i in batch], self.pad_id)
        return torch.from_numpy(ids).to(self.device), torch.from_numpy(att).to(self.device)

    def build_cache(self, advance: Callable[[int], None] = lambda n: None) -> None:
        """Run the frozen bottom layers once per prompt (float32, eval mode) and keep the states."""
        if not self.split.cacheable:
            return
        model = self.split.model
        was_training = model.training
        model.eval()
        states: list[torch.Tensor | None] = [None] * len(self.pairs)
        try:
            for batch in length_sorted_batches([len(r) for r in self.ids], self.batch_size):
                ids, att = self._padded(batch)
                hidden = self.split.bottom(ids, att).float()
                for row, i in enumerate(batch):
                    states[i] = hidden[row, : len(self.ids[i])].clone()
                advance(len(batch))
        finally:
            model.train(was_training)
        self.states = [s for s in states if s is not None]

    def _forward(self, batch: Sequence[int], use_cache: bool) -> torch.Tensor:
        ids, att = self._padded(batch)
        if use_cache:
            assert self.states is not None
            hidden = pad_sequence([self.states[i] for i in batch], batch_first=True)
            last = self.split.top(hidden, att)
        else:
            last = self.split.model(input_ids=ids, attention_mask=att)[0]
        return pool(last, ids, att, self.mask_id, self.encoder.aggregation)

    def vectors(
        self, indices: Sequence[int], *, grad: bool, use_cache: bool = True, bf16: bool | None = None
    ) -> torch.Tensor:
        """Pooled (unnormalised, float32) vectors ``(n, dim)`` for bank ``indices``, in order.

        With ``grad`` the autograd graph is kept for the whole set (one InfoNCE step needs it).
        """
        use_cache = use_cache and self.states is not None
        bf16 = self.bf16 if bf16 is None else bf16
        lengths = [len(self.ids[i]) for i in indices]
        parts: list[torch.Tensor] = []
        order: list[np.ndarray] = []
        ctx = contextlib.nullcontext() if grad else torch.no_grad()
        with ctx, self._autocast(bf16):
            for batch in length_sorted_batches(lengths, self.batch_size):
                parts.append(self._forward([indices[j] for j in batch], use_cache))
                order.append(batch)
        if not parts:
            return torch.zeros((0, self.encoder.dim), device=self.device)
        stacked = torch.cat(parts)
        inverse = torch.from_numpy(np.argsort(np.concatenate(order), kind="stable")).to(self.device)
        return stacked[inverse]

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """Eval mode (no dropout) for the duration, restoring the previous mode."""
        model = self.split.model
        was_training = model.training
        model.eval()
        try:
            yield
        finally:
            model.train(was_training)

    def unit_vectors(
        self, indices: Sequence[int], *, use_cache: bool = True, bf16: bool | None = None
    ) -> np.ndarray:
        """L2-normalised float32 numpy vectors in eval mode (for validation and checks)."""
        with self.evaluating():
            vecs = self.vectors(indices, grad=False, use_cache=use_cache, bf16=bf16)
        out = vecs.cpu().numpy().astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
