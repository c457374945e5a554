"""Vectors of single words (no prompt): the relatedness signal that picks candidate pairs.

A word is tokenised alone and its last hidden states are averaged over the real tokens
(special tokens included, as sentence-transformers does for all-mpnet-base-v2 and
all-MiniLM-L6-v2), then L2-normalised, so that inner product is cosine similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from relsearch.encoding.batching import length_sorted_batches, pad_batch


@torch.inference_mode()
def mean_pooled_word_vectors(
    model: Any,
    tokenizer: Any,
    words: Sequence[str],
    *,
    batch_size: int = 128,
    device: torch.device | None = None,
    bfloat16: bool = False,
    max_length: int = 32,
    forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    pooled: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Return float32 ``(len(words), hidden)`` unit vectors in input order.

    ``forward(input_ids, attention_mask) -> last_hidden_state`` replaces calling ``model``
    (e.g. a traced pass of the same model); ``pooled(input_ids, attention) -> (batch, hidden)``,
    numpy in and out, replaces the whole pass and its pooling (e.g. an OpenVINO model that sums
    the real tokens' states: the same unit vectors as the mean).
    """
    hidden = int(model.config.hidden_size)
    out = np.zeros((len(words), hidden), dtype=np.float32)
    if not words:
        return out
    device = device or torch.device("cpu")
    ids = tokenizer(list(words), truncation=True, max_length=max_length)["input_ids"]
    pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
    for batch in length_sorted_batches([len(r) for r in ids], batch_size):
        input_ids, attention = pad_batch([ids[i] for i in batch], pad_id)
        if pooled is not None:
            out[batch] = pooled(input_ids, attention)
            continue
        ids_t = torch.from_numpy(input_ids).to(device)
        att_t = torch.from_numpy(attention).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bfloat16):
            if forward is not None:
                states = forward(ids_t, att_t)
            else:
                states = model(input_ids=ids_t, attention_mask=att_t).last_hidden_state
        mask = att_t.unsqueeze(-1).float()
        mean = (states.float() * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        out[batch] = mean.cpu().numpy()
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out
