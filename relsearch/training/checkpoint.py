"""Per-epoch training checkpoints (no pickle): trained tensors, AdamW moments and a JSON state.

``OUT/checkpoints/epoch-NNN/`` holds ``weights.safetensors`` (float32 trained parameters),
``optimizer.safetensors`` (``<name>.exp_avg`` / ``<name>.exp_avg_sq``) and ``state.json``
(epoch, optimiser step, run identity, history). A checkpoint is written into a temporary
folder and renamed into place, then older ones are removed, so a crash leaves the last
complete epoch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from relsearch.errors import RelsearchError

CHECKPOINTS = "checkpoints"
_NAME = re.compile(r"^epoch-(\d{3,})$")


@dataclass
class Checkpoint:
    """A loaded checkpoint: where it is and its state."""

    path: Path
    state: dict[str, Any]

    @property
    def epoch(self) -> int:
        return int(self.state["epoch"])


def replace_dir(tmp: Path, target: Path) -> None:
    """Move the finished folder ``tmp`` to ``target``, replacing an existing one."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def identity_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``key: old -> new`` for every setting in which two run identities differ, sorted.

    Nested settings (a dict value) are compared key by key and named with a dot: ``train.lr``.
    """

    def flat(identity: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in identity.items():
            if isinstance(value, dict):
                out.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                out[key] = value
        return out

    a, b = flat(old), flat(new)
    return [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted({*a, *b}) if a.get(k) != b.get(k)]


def latest_checkpoint(out_dir: Path) -> Checkpoint | None:
    """The newest complete checkpoint in ``out_dir``, or None."""
    root = out_dir / CHECKPOINTS
    found = sorted(
        (int(m.group(1)), p) for p in root.glob("epoch-*") if (m := _NAME.match(p.name)) and p.is_dir()
    )
    for _, path in reversed(found):
        state_file = path / "state.json"
        if state_file.is_file():
            try:
                return Checkpoint(path, json.loads(state_file.read_text(encoding="utf-8")))
            except ValueError as exc:
                raise RelsearchError(f"checkpoint {path} is unreadable ({exc}); use --overwrite") from exc
    return None


def save_checkpoint(
    out_dir: Path,
    epoch: int,
    named_params: dict[str, torch.nn.Parameter],
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
) -> Path:
    """Write ``checkpoints/epoch-<epoch>`` atomically and drop older checkpoints."""
    root = out_dir / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    tmp.chmod(0o755)  # mkdtemp makes it private
    weights = {name: p.detach().cpu().contiguous() for name, p in named_params.items()}
    save_file(weights, str(tmp / "weights.safetensors"))
    moments: dict[str, torch.Tensor] = {}
    steps: dict[str, float] = {}
    for name, param in named_params.items():
        slot = optimizer.state.get(param, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in slot:
                moments[f"{name}.{key}"] = slot[key].detach().cpu().contiguous()
        if "step" in slot:
            steps[name] = float(slot["step"])
    save_file(moments, str(tmp / "optimizer.safetensors"))
    payload = {**state, "epoch": epoch, "adam_steps": steps}
    (tmp / "state.json").write_text(
        json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    target = root / f"epoch-{epoch:03d}"
    replace_dir(tmp, target)
    for old in root.glob("epoch-*"):
        if old != target and _NAME.match(old.name):
            shutil.rmtree(old, ignore_errors=True)
    return target


def restore_checkpoint(
    ckpt: Checkpoint, named_params: dict[str, torch.nn.Parameter], optimizer: torch.optim.Optimizer
) -> None:
    """Load trained tensors and AdamW moments from ``ckpt`` into the model and optimiser."""
    weights = load_file(str(ckpt.path / "weights.safetensors"))
    if set(weights) != set(named_params):
        raise RelsearchError(
            f"checkpoint {ckpt.path} holds other tensors than this run trains; use --overwrite"
        )
    moments = load_file(str(ckpt.path / "optimizer.safetensors"))
    steps = ckpt.state.get("adam_steps", {})
    with torch.no_grad():
        for name, param in named_params.items():
            param.copy_(weights[name].to(param.dtype))
            if f"{name}.exp_avg" in moments:
                optimizer.state[param] = {
                    "step": torch.tensor(float(steps.get(name, 0.0))),
                    "exp_avg": moments[f"{name}.exp_avg"].to(param.device),
                    "exp_avg_sq": moments[f"{name}.exp_avg_sq"].to(param.device),
                }
