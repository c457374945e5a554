"""The OpenVINO backend: the encoder's transformer and pooling as an OpenVINO model on the CPU.

OpenVINO compiles the whole graph (fused attention, LayerNorm and GELU, oneDNN AMX/VNNI
kernels) where eager PyTorch runs some 1,300 small ops per forward pass. The PyTorch model is
converted once with ``openvino.convert_model`` (OpenVINO's own PyTorch frontend) and the IR is
cached under ``$RELSEARCH_CACHE/openvino/<fingerprint>/`` (default ``~/.cache/relsearch``):
the fingerprint covers the weights, tokenizer and settings, so a changed model gets a new
export. Precision is OpenVINO's ``INFERENCE_PRECISION_HINT``: ``bfloat16`` runs bf16 kernels
on AMX or AVX512-BF16, ``float32`` keeps f32. The torch path stays the reference.

``optimum-intel`` is not used: its releases pin ``transformers<5.6`` and pull ``torchvision``,
which conflicts with relsearch's torch and transformers; the conversion here is the same
``convert_model`` call it makes.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relsearch.errors import RelsearchError

log = logging.getLogger("relsearch")

#: OpenVINO inference precision per relsearch dtype.
PRECISION = {"float32": "f32", "bfloat16": "bf16"}


def available() -> bool:
    """Whether the ``openvino`` package can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def cache_root() -> Path:
    """``$RELSEARCH_OPENVINO_DIR``, or ``openvino/`` in relsearch's cache folder."""
    from relsearch.base_models import cache_dir

    override = os.environ.get("RELSEARCH_OPENVINO_DIR")
    return Path(override) if override else cache_dir() / "openvino"


class _Pooled(torch.nn.Module):
    """``(input_ids, attention_mask) -> pooled (batch, hidden)``: the graph that is exported."""

    def __init__(self, model: torch.nn.Module, mask_id: int, aggregation: str) -> None:
        super().__init__()
        self.model, self.mask_id, self.aggregation = model, mask_id, aggregation

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        from relsearch.encoding.pooling import pool

        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return pool(hidden, input_ids, attention_mask, self.mask_id, self.aggregation)


def export_ir(model: torch.nn.Module, mask_id: int, aggregation: str, target: Path) -> Path:
    """Convert ``model`` with its pooling to OpenVINO IR at ``target/model.xml`` (atomic)."""
    import openvino as ov

    from relsearch.training.checkpoint import replace_dir

    target.parent.mkdir(parents=True, exist_ok=True)
    # a padded example: with an all-ones mask transformers may drop the mask from the trace
    ids = torch.full((2, 8), 5, dtype=torch.int64)
    ids[:, 3] = mask_id
    attention = torch.ones((2, 8), dtype=torch.int64)
    attention[1, 5:] = 0
    example = (ids, attention)
    from relsearch.encoding.loading import quiet_transformers

    with torch.no_grad(), warnings.catch_warnings(), quiet_transformers():
        warnings.simplefilter("ignore")  # TracerWarnings about shape checks that hold for our inputs
        ov_model = ov.convert_model(
            _Pooled(model, mask_id, aggregation).eval(),
            example_input=example,
            input=[ov.PartialShape([-1, -1]), ov.PartialShape([-1, -1])],
        )
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        ov.save_model(ov_model, str(tmp / "model.xml"), compress_to_fp16=False)
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    xml = target / "model.xml"
    return xml


class OpenVINOForward:
    """A compiled OpenVINO model of a transformer and pooling: ``(input_ids, attention) -> pooled``.

    ``key`` names the export in the cache (a content fingerprint: a changed model gets a new one).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        mask_id: int,
        aggregation: str,
        key: str,
        precision: str,
        *,
        threads: int | None = None,
    ) -> None:
        if not available():
            raise RelsearchError(
                "the OpenVINO backend needs the openvino package: pip install 'relsearch[openvino]'"
            )
        if precision not in PRECISION:
            raise RelsearchError(f"the OpenVINO backend runs float32 or bfloat16, not {precision!r}")
        import openvino as ov

        folder = cache_root() / key
        xml = folder / "model.xml"
        if not (xml.is_file() and (folder / "model.bin").is_file()):
            log.info("exporting the model to OpenVINO IR in %s (once per model)", folder)
            export_ir(model, mask_id, aggregation, folder)
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": PRECISION[precision]}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        self.compiled = ov.Core().compile_model(str(xml), "CPU", config)
        self.request = self.compiled.create_infer_request()
        self.path = folder

    @classmethod
    def for_prompts(cls, encoder: Any, precision: str, *, threads: int | None = None) -> OpenVINOForward:
        """The encoder's model with its prompt pooling (relation vectors before any head)."""
        mask_id = int(encoder.tokenizer.mask_token_id)
        return cls(
            encoder.model,
            mask_id,
            encoder.aggregation,
            encoder.content_fingerprint,
            precision,
            threads=threads,
        )

    @classmethod
    def for_words(
        cls, model: torch.nn.Module, tokenizer: Any, key: str, precision: str, *, threads: int | None = None
    ) -> OpenVINOForward:
        """A word model with sum pooling over every real token (mean-pooled once normalised)."""
        mask_id = int(tokenizer.mask_token_id if tokenizer.mask_token_id is not None else 0)
        return cls(model, mask_id, "average", f"{key}-words", precision, threads=threads)

    def __call__(self, input_ids: np.ndarray, attention: np.ndarray) -> np.ndarray:
        result = self.request.infer({0: input_ids.astype(np.int64), 1: attention.astype(np.int64)})
        return np.asarray(result[self.compiled.output(0)], dtype=np.float32)
