"""Pooling of last hidden states into one relation vector per prompt (RelBERT's modes)."""

from __future__ import annotations

import torch


def token_selection(
    input_ids: torch.Tensor, attention_mask: torch.Tensor, mask_token_id: int, mode: str
) -> torch.Tensor:
    """Boolean ``(batch, seq)`` mask of the tokens a pooling mode sums over."""
    real = attention_mask.bool()
    if mode == "average":
        return real
    is_mask = input_ids == mask_token_id
    if mode == "average_no_mask":
        return real & ~is_mask
    if mode == "mask":
        return real & is_mask
    raise ValueError(f"unknown pooling mode {mode!r}")


def pool(
    hidden: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    mask_token_id: int,
    mode: str,
) -> torch.Tensor:
    """Sum hidden states over the selected tokens (the reference sums; cosine ignores scale)."""
    selected = token_selection(input_ids, attention_mask, mask_token_id, mode)
    return (hidden.float() * selected.unsqueeze(-1).float()).sum(dim=1)
