"""An optional linear map after pooling: a student model's width to its teacher's.

A distilled model (``relsearch distill``) narrower than its teacher ships
``relation_head.safetensors`` (``weight`` ``(out, in)``, ``bias`` ``(out,)``, float32) next to
its weights; the relation vector is ``head(pool(hidden states))``. Models without the file
use the pooled vector as it is.
"""

from __future__ import annotations

from pathlib import Path

import torch

from relsearch.errors import ModelLoadError

HEAD_FILE = "relation_head.safetensors"


def load_head(model_dir: Path | None, hidden_size: int) -> torch.nn.Linear | None:
    """The head stored in ``model_dir``, or None; raise if it does not fit the model."""
    if model_dir is None or not (model_dir / HEAD_FILE).is_file():
        return None
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(model_dir / HEAD_FILE))
        weight, bias = tensors["weight"].float(), tensors["bias"].float()
    except (OSError, KeyError, RuntimeError) as exc:
        raise ModelLoadError(f"cannot read {model_dir / HEAD_FILE}: {exc}") from exc
    if weight.ndim != 2 or weight.shape[1] != hidden_size or bias.shape != (weight.shape[0],):
        raise ModelLoadError(
            f"{model_dir / HEAD_FILE}: a {tuple(weight.shape)} head does not fit hidden size {hidden_size}"
        )
    head = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(bias)
    return head.eval()


def save_head(head: torch.nn.Linear, model_dir: Path) -> None:
    """Write ``head`` as float32 tensors into ``model_dir``."""
    from safetensors.torch import save_file

    tensors = {
        "weight": head.weight.detach().to("cpu", torch.float32).contiguous(),
        "bias": head.bias.detach().to("cpu", torch.float32).contiguous(),
    }
    save_file(tensors, str(model_dir / HEAD_FILE))
