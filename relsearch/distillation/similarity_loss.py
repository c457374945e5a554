"""Relational distillation: the student keeps the teacher's ranking of pairs, not only its vectors.

An analogy question is decided by which of a few candidate pairs lies closest to the stem, so a
student whose vectors sit at cosine 0.92 to the teacher's can still rank them differently. This
term compares, for each pair of a batch, the softmax over its cosines to the other pairs of the
batch: ``KL(teacher || student)``, averaged over the batch (relational knowledge distillation).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MIN_SIMILARITY_BATCH = 3  # each row needs at least two other rows for its softmax to say anything


def similarity_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over rows ``i`` of ``KL(p_t(i) || p_s(i))``, where ``p(i)`` is the softmax of
    ``cos(i, j) / temperature`` over the other rows ``j != i`` of the batch.

    ``student`` and ``teacher`` are ``(n, d)`` and ``(n, d')`` (unnormalised is fine; the widths
    may differ). Zero when both rank every row's neighbours with the same distribution; zero
    also for batches under ``MIN_SIMILARITY_BATCH`` rows. No gradient flows into ``teacher``.
    """
    n = student.shape[0]
    if teacher.shape[0] != n:
        raise ValueError(f"student and teacher batches differ: {n} and {teacher.shape[0]} rows")
    if n < MIN_SIMILARITY_BATCH:
        return student.new_zeros(())
    s = F.normalize(student.float(), dim=-1)
    t = F.normalize(teacher.detach().float(), dim=-1)
    off = ~torch.eye(n, dtype=torch.bool, device=s.device)
    logits_s = (s @ s.T / temperature)[off].view(n, n - 1)
    logits_t = (t @ t.T / temperature)[off].view(n, n - 1)
    log_p_t = F.log_softmax(logits_t, dim=1)
    log_p_s = F.log_softmax(logits_s, dim=1)
    return (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1).mean()
