"""Traced forward passes: the same ATen ops as eager PyTorch, without Python's per-module overhead.

At batch size 1 a forward pass of a base-size encoder costs more in overhead than in arithmetic:
Hugging Face's Python modules and some 1,300 small ATen calls take longer than the int8 matmuls
themselves (one 22-token prompt through MPNet-base at int8 on 2 cores: ~52 ms eager, ~36 ms
traced). ``torch.jit.trace`` records the ops once; batch size and sequence length stay free, and
the outputs equal eager's bit for bit (checked when tracing, and across shapes in the tests).

Only small batches go through the trace (at most :data:`MAX_ROWS` rows): large batches are
bound by arithmetic, where a trace gains nothing, and a trace recorded on a large batch keeps
gigabytes of buffers alive (measured: +3 GB for 64 rows of MPNet-base, +60 MB for one row). The
graph runs without TorchScript's optimising executor, whose per-shape re-specialisation cost up
to 0.8 s on some new sequence lengths; the plain interpreter keeps latency flat and the ops
exactly those of eager.

Tracing costs about a second, so :class:`TracedForward` runs eagerly for its first small calls
and traces only once a process has shown it will make more (a one-off CLI query never pays).
Set ``RELSEARCH_TRACE=0`` to turn tracing off.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import torch

log = logging.getLogger("relsearch")

#: Eager calls before tracing: a one-off query makes one or two, a build or a server many more.
TRACE_AFTER = 2
#: Batches of more rows run eagerly (see the module docstring).
MAX_ROWS = 4


def tracing_enabled() -> bool:
    """False when ``RELSEARCH_TRACE`` is ``0``, ``false`` or ``no``."""
    return os.environ.get("RELSEARCH_TRACE", "1").strip().lower() not in {"0", "false", "no"}


class _LastHidden(torch.nn.Module):
    """``module(input_ids, attention_mask).last_hidden_state`` as a module of two tensors."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.module(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class TracedForward:
    """``(input_ids, attention_mask) -> last_hidden_state`` of ``module``: eager, then traced.

    After ``after`` eager calls of at most :data:`MAX_ROWS` rows the module is traced on the
    current inputs; the trace is kept only if its output equals the eager output exactly, and
    runs every later small batch. Larger batches, and modules in training mode (a trace would
    freeze dropout), always run eagerly.
    """

    def __init__(self, module: torch.nn.Module, *, enabled: bool = True, after: int = TRACE_AFTER) -> None:
        self.module = module
        self.enabled = enabled and tracing_enabled()
        self.after = after
        self.calls = 0
        self._traced: Any = None

    @property
    def traced(self) -> bool:
        """Whether calls now go through the trace."""
        return self._traced is not None

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        small = input_ids.shape[0] <= MAX_ROWS and not self.module.training
        if small and self._traced is not None:
            with torch.jit.optimized_execution(False):
                return self._traced(input_ids, attention_mask)
        eager = self.module(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if small and self.enabled:
            self.calls += 1
            if self.calls > self.after:
                self._try_trace(input_ids, attention_mask, eager)
        return eager

    def _try_trace(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, eager: torch.Tensor) -> None:
        self.enabled = False  # one attempt, whatever its outcome
        from relsearch.encoding.loading import quiet_transformers

        try:
            with warnings.catch_warnings(), quiet_transformers():
                warnings.simplefilter("ignore")
                example = (input_ids, attention_mask)
                traced = torch.jit.trace(_LastHidden(self.module), example, check_trace=False)
                with torch.jit.optimized_execution(False):
                    same = torch.equal(traced(input_ids, attention_mask), eager)
        except Exception as exc:  # any tracing failure means: stay eager
            log.debug("tracing %s failed, staying eager: %s", type(self.module).__name__, exc)
            return
        if same:
            self._traced = traced
        else:
            log.debug("traced %s differs from eager; staying eager", type(self.module).__name__)
