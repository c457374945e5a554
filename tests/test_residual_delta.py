"""int8 residual deltas: exact enough to rebuild fine-tuned weights, one byte per weight."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from tiny_models import build_tiny_model

from relsearch import RelationEncoder
from relsearch.encoding.residual_delta import decode_residual, encode_residual, stored_names
from relsearch.errors import ModelLoadError


def test_round_trip_error_is_far_below_float16_rounding():
    gen = torch.Generator().manual_seed(0)
    base = {"w": torch.randn(64, 48, generator=gen) * 0.05, "b": torch.randn(64, generator=gen)}
    trained = {"w": base["w"] + torch.randn(64, 48, generator=gen) * 1e-3, "b": base["b"] + 0.01}
    trained["w"][3] = base["w"][3]  # an unchanged row (scale 0) must come back exactly
    stored = encode_residual(trained, base)
    assert stored["w.q"].dtype == torch.int8 and stored["w.scale"].shape == (64,)
    assert stored_names(stored) == ["b", "w"]
    rebuilt = decode_residual(stored, base)
    err = (rebuilt["w"] - trained["w"]).abs().max()
    fp16_err = (trained["w"].half().float() - trained["w"]).abs().max()
    assert err < fp16_err / 2, (err, fp16_err)
    assert torch.equal(rebuilt["w"][3], base["w"][3]) and torch.equal(rebuilt["b"], trained["b"])


def test_a_residual_delta_directory_loads_and_a_damaged_one_is_refused(tmp_path):
    base_dir = build_tiny_model(tmp_path / "base")
    base = RelationEncoder(base_dir)
    state = base.model.state_dict()
    names = [n for n in state if n.startswith("encoder.layer.1.")]
    gen = torch.Generator().manual_seed(1)
    trained = {n: state[n] + 0.02 * torch.randn(state[n].shape, generator=gen) for n in names}
    delta = tmp_path / "delta"
    delta.mkdir()
    save_file(encode_residual(trained, state), str(delta / "delta.safetensors"))
    (delta / "config.json").write_text((base_dir / "config.json").read_text())
    meta = {"base": str(base_dir), "weights": "delta.safetensors", "dtype": "residual-int8"}
    (delta / "relsearch_delta.json").write_text(json.dumps(meta))
    loaded = RelationEncoder(delta).model.state_dict()
    for n in names:
        assert torch.allclose(loaded[n], trained[n], atol=5e-4), n  # half a step of max|d|/127
    assert not torch.allclose(loaded[names[0]], state[names[0]])

    stored = load_file(str(delta / "delta.safetensors"))
    del stored[next(k for k in stored if k.endswith(".scale"))]
    save_file(stored, str(delta / "delta.safetensors"))
    with pytest.raises(ModelLoadError, match="damaged residual delta"):
        RelationEncoder(delta)
