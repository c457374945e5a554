"""Split an encoder into frozen bottom layers and the top K layers that are trained.

When only the top K layers train, the bottom layers' output for a prompt never changes, so it
is computed once and cached; each training step then runs just the top K layers. The top
layers are run through the model's own encoder module (``model.encoder`` with its layer list
temporarily cut), so per-architecture details stay with transformers: MPNet's encoder
computes its relative position bias from the hidden states' shape and hands it to every
layer; BERT/RoBERTa layers take the attention mask alone.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from relsearch.errors import RelsearchError

log = logging.getLogger("relsearch")


def _layer_list(model: Any) -> nn.ModuleList | None:
    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    return layers if isinstance(layers, nn.ModuleList) and hasattr(model, "embeddings") else None


@contextlib.contextmanager
def only_layers(encoder: nn.Module, layers: list[nn.Module]) -> Iterator[None]:
    """Let ``encoder`` run just ``layers`` (the same module objects) for the duration."""
    original = encoder.layer
    encoder.layer = nn.ModuleList(layers)
    try:
        yield
    finally:
        encoder.layer = original


def _bidirectional_mask(model: Any, hidden: torch.Tensor, attention: torch.Tensor) -> Any:
    """The attention mask the model's own forward builds from a 0/1 padding mask."""
    try:
        from transformers.masking_utils import create_bidirectional_mask
    except ImportError:  # transformers < 4.56
        return model.get_extended_attention_mask(attention, attention.shape, dtype=hidden.dtype)
    return create_bidirectional_mask(config=model.config, inputs_embeds=hidden, attention_mask=attention)


class LayerSplit:
    """Which parameters train, and the bottom/top halves of the forward pass.

    ``train_layers=0`` trains everything, embeddings included, and there is nothing to cache.
    ``train_layers`` equal to the model's depth (or more) trains every transformer layer with the
    embeddings frozen: the cached "bottom" is then the embedding output. Architectures without
    ``model.encoder.layer`` can only train everything.
    """

    def __init__(self, model: Any, train_layers: int) -> None:
        if train_layers < 0:
            raise RelsearchError(f"--train-layers must be 0 (all) or positive, got {train_layers}")
        self.model = model
        self.layers = _layer_list(model)
        if self.layers is None:
            if train_layers:
                raise RelsearchError(
                    f"{type(model).__name__} has no encoder.layer list; train all layers (--train-layers 0)"
                )
            self.n_layers = 0
            self.k = 0
        else:
            self.n_layers = len(self.layers)
            self.k = self.n_layers if train_layers == 0 else min(train_layers, self.n_layers)
        self.cut = self.n_layers - self.k
        self.embeddings_frozen = self.layers is not None and train_layers > 0
        self.cacheable = self.embeddings_frozen

    @property
    def trains_all(self) -> bool:
        """Everything trains, embeddings included (nothing is frozen or cached)."""
        return not self.embeddings_frozen

    def trainable_names(self) -> list[str]:
        """Names (``model.state_dict()`` keys) of the parameters that train."""
        names = [n for n, _ in self.model.named_parameters()]
        if self.trains_all:
            return [n for n in names if not n.startswith("pooler.")]
        prefixes = tuple(f"encoder.layer.{i}." for i in range(self.cut, self.n_layers))
        return [n for n in names if n.startswith(prefixes)]

    def freeze(self) -> dict[str, nn.Parameter]:
        """Set ``requires_grad`` on the trainable parameters only; return them by name."""
        wanted = set(self.trainable_names())
        params = {}
        for name, param in self.model.named_parameters():
            param.requires_grad_(name in wanted)
            if name in wanted:
                params[name] = param
        return params

    def bottom(self, input_ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Hidden states entering layer ``cut`` (embeddings + frozen layers), without gradients."""
        assert self.layers is not None
        with torch.no_grad(), only_layers(self.model.encoder, list(self.layers)[: self.cut]):
            return self.model(input_ids=input_ids, attention_mask=attention)[0]

    def top(self, hidden: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Run the top ``k`` layers on cached bottom states; returns the last hidden states."""
        assert self.layers is not None
        mask = _bidirectional_mask(self.model, hidden, attention)
        with only_layers(self.model.encoder, list(self.layers)[self.cut :]):
            return self.model.encoder(hidden, attention_mask=mask)[0]

    def describe(self) -> dict[str, object]:
        return {
            "layers": self.n_layers,
            "trained_layers": self.k,
            "frozen_layers": self.cut,
            "embeddings_frozen": self.embeddings_frozen,
            "cached_bottom": self.cacheable,
        }
