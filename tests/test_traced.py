"""Traced forward passes: outputs equal eager bit for bit, across batch sizes and lengths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import build_tiny_model

from relsearch import RelationEncoder
from relsearch.encoding.traced import TracedForward


def _tiny_mpnet() -> torch.nn.Module:
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=80, pad_token_id=1,
    )  # fmt: skip
    return MPNetModel(config, add_pooling_layer=False).eval()


def _batch(batch: int, length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 100, (batch, length), generator=gen)
    mask = torch.ones_like(ids)
    for row in range(1, batch):  # later rows padded, as length-sorted batches are
        cut = max(1, length - 3 * row)
        ids[row, cut:], mask[row, cut:] = 1, 0
    return ids, mask


@pytest.mark.parametrize("kind", ["roberta", "bert", "mpnet"])
def test_traced_equals_eager_on_other_shapes(kind, tmp_path):
    if kind == "mpnet":  # the default model's architecture (relative position buckets)
        model = _tiny_mpnet()
    else:
        from transformers import AutoModel

        model = AutoModel.from_pretrained(build_tiny_model(tmp_path / kind, kind=kind)).eval()
    forward = TracedForward(model, after=0)
    with torch.inference_mode():
        forward(*_batch(2, 9, seed=0))
        assert forward.traced
        for batch, length, seed in [(1, 3, 1), (4, 17, 2), (3, 40, 3), (1, 64, 4)]:
            ids, mask = _batch(batch, length, seed)
            eager = model(input_ids=ids, attention_mask=mask).last_hidden_state
            assert torch.equal(forward(ids, mask), eager), (batch, length)


def test_eager_first_then_traced_and_never_in_training_mode():
    model = _tiny_mpnet()
    forward = TracedForward(model, after=2)
    ids, mask = _batch(1, 5, seed=0)
    with torch.inference_mode():
        forward(ids, mask), forward(ids, mask)
        assert not forward.traced  # a one-off caller never pays for tracing
        forward(ids, mask)
        assert forward.traced
    model.train()
    with torch.no_grad():
        a, b = forward(ids, mask), forward(ids, mask)
    assert not torch.equal(a, b)  # dropout ran: the eager module, not the eval-mode trace


def test_tracing_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("RELSEARCH_TRACE", "0")
    forward = TracedForward(_tiny_mpnet(), after=0)
    with torch.inference_mode():
        forward(*_batch(1, 5, seed=0))
    assert not forward.traced


def test_large_batches_stay_eager():
    forward = TracedForward(_tiny_mpnet(), after=0)
    with torch.inference_mode():
        forward(*_batch(8, 5, seed=0))
        assert not forward.traced and forward.calls == 0
        forward(*_batch(4, 5, seed=0))
        assert forward.traced


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_encoder_vectors_do_not_change_once_traced(tiny_model_dir, dtype):
    pairs = [("king", "queen"), ("man", "woman"), ("dog", "puppy"), ("cat", "kitten"), ("sun", "moon")]
    traced = RelationEncoder(tiny_model_dir, dtype=dtype, word_weight=0.4)
    eager = RelationEncoder(tiny_model_dir, dtype=dtype, word_weight=0.4, trace=False)
    for _ in range(2):  # one pair at a time, as queries come: the third call of each pass traces
        traced.clear_word_cache()
        one_by_one = np.stack([traced.encode(p) for p in pairs])
    assert all(f.traced for f in traced._forwards.values()) and len(traced._forwards) == (
        1 if dtype == "float32" else 2  # prompts and words share the float32 model's trace
    )
    traced.clear_word_cache()
    batched = traced.encode(pairs)  # 5 prompts, 10 words: more rows than a trace takes
    assert not any(f.traced for f in eager._forwards.values())
    np.testing.assert_array_equal(one_by_one, np.stack([eager.encode(p) for p in pairs]))
    np.testing.assert_array_equal(batched, eager.encode(pairs))
