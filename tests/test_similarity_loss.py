"""The relational distillation term: zero for equal rankings, positive otherwise, and trainable."""

from __future__ import annotations

import pytest
import torch

from relsearch.distillation.similarity_loss import similarity_kl


def test_zero_when_the_cosines_agree_even_across_widths_and_scales():
    torch.manual_seed(0)
    teacher = torch.randn(16, 8)
    rotation, _ = torch.linalg.qr(torch.randn(12, 12))
    student = torch.cat([teacher, torch.zeros(16, 4)], dim=1) @ rotation * 3.0  # same cosines, wider
    assert float(similarity_kl(student, teacher, 0.05)) == pytest.approx(0.0, abs=1e-5)


def test_positive_when_the_rankings_differ_and_sharper_at_a_lower_temperature():
    torch.manual_seed(0)
    teacher, student = torch.randn(16, 8), torch.randn(16, 8)
    warm, cold = float(similarity_kl(student, teacher, 0.5)), float(similarity_kl(student, teacher, 0.05))
    assert 0 < warm < cold


def test_gradient_steps_on_the_student_lower_it():
    torch.manual_seed(0)
    teacher = torch.randn(32, 8)
    student = torch.randn(32, 8, requires_grad=True)
    start = float(similarity_kl(student.detach(), teacher, 0.1))
    optimizer = torch.optim.SGD([student], lr=0.5)
    for _ in range(100):
        optimizer.zero_grad()
        similarity_kl(student, teacher, 0.1).backward()
        optimizer.step()
    assert float(similarity_kl(student.detach(), teacher, 0.1)) < 0.2 * start


def reference_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> float:
    """The definition written out row by row: KL(p_t || p_s) over each row's other rows."""
    s = torch.nn.functional.normalize(student, dim=-1)
    t = torch.nn.functional.normalize(teacher, dim=-1)
    total = 0.0
    for i in range(len(s)):
        others = [j for j in range(len(s)) if j != i]
        p_t = torch.softmax(torch.stack([t[i] @ t[j] for j in others]) / temperature, dim=0)
        p_s = torch.softmax(torch.stack([s[i] @ s[j] for j in others]) / temperature, dim=0)
        total += float((p_t * (p_t.log() - p_s.log())).sum())
    return total / len(s)


def test_matches_the_definition_and_its_direction():
    torch.manual_seed(1)
    teacher, student = torch.randn(5, 6), torch.randn(5, 3)
    forward = float(similarity_kl(student, teacher, 0.3))
    assert forward == pytest.approx(reference_kl(student, teacher, 0.3), rel=1e-5)
    backward = float(similarity_kl(teacher, student, 0.3))  # KL(student || teacher): another number
    assert backward == pytest.approx(reference_kl(teacher, student, 0.3), rel=1e-5)
    assert abs(forward - backward) > 1e-3


def test_no_gradient_reaches_the_teacher():
    teacher = torch.randn(6, 4, requires_grad=True)
    student = torch.randn(6, 4, requires_grad=True)
    similarity_kl(student, teacher, 0.1).backward()
    assert teacher.grad is None and student.grad is not None


def test_small_and_mismatched_batches():
    assert float(similarity_kl(torch.randn(2, 4), torch.randn(2, 4), 0.05)) == 0.0  # no "other" pairs
    with pytest.raises(ValueError, match="differ"):
        similarity_kl(torch.randn(5, 4), torch.randn(4, 4), 0.05)
