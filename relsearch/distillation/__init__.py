"""Distillation: a small student model trained to reproduce a teacher's relation vectors."""
