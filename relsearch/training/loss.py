"""InfoNCE over cosine similarity, as in RelBERT 2.x."""

from __future__ import annotations

import torch
import torch.nn.functional as F

DEFAULT_TEMPERATURE = 0.05


def info_nce(
    positives: torch.Tensor,
    negatives: torch.Tensor,
    temperature: float = DEFAULT_TEMPERATURE,
    *,
    n_anchors: int | None = None,
    partners: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over ordered positive pairs ``(i, j)``, ``i != j``, of
    ``-log(e^{cos(i,j)/t} / (e^{cos(i,j)/t} + sum_k e^{cos(i,k)/t}))`` over negatives ``k``.

    ``positives`` is ``(p, d)``, ``negatives`` ``(n, d)`` (unnormalised is fine). Anchors ``i``
    are the first ``n_anchors`` positives (all by default); partners ``j`` are all positives,
    or row ``j`` of ``partners`` (``(p, d)``, e.g. the same pairs' vectors from a bank).
    The mean (not the paper's sum) keeps the scale equal between relations with 8 and 80
    positives; Adam is insensitive to a constant factor within one step.
    """
    if positives.shape[0] < 2:
        raise ValueError(f"InfoNCE needs at least 2 positives, got {positives.shape[0]}")
    anchors = positives.shape[0] if n_anchors is None else n_anchors
    pos = F.normalize(positives.float(), dim=-1)
    other = pos if partners is None else F.normalize(partners.float(), dim=-1)
    sim_pp = pos[:anchors] @ other.T / temperature  # (a, p)
    if negatives.shape[0]:
        neg = F.normalize(negatives.float(), dim=-1)
        neg_lse = torch.logsumexp(pos[:anchors] @ neg.T / temperature, dim=1, keepdim=True)  # (a, 1)
        terms = torch.logaddexp(sim_pp, neg_lse) - sim_pp
    else:
        terms = torch.zeros_like(sim_pp)
    keep = ~torch.eye(anchors, positives.shape[0], dtype=torch.bool, device=terms.device)
    return terms[keep].mean()
