"""Benchmarks: multiple-choice analogy questions and lexical relation classification."""
