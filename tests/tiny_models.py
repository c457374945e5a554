"""Tiny transformers built in-process (no downloads) for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from relsearch.templates import TEMPLATES

CORPUS = [TEMPLATES[t] for t in TEMPLATES] + [
    "barista coffee baker bread brewer beer winemaker wine bartender cocktail",
    "king queen man woman paris france tokyo japan dog puppy cat kitten",
    "café crème brûlée naïve résumé Zürich — ’ ' : ; , . ! ?",
    "the of and is a an to in that relation between encyclopedia aware read",
]


def _train_tokenizer(kind: str) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if kind == "roberta":
        specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
        tok.train_from_iterator(CORPUS * 3, trainer)
        tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
        return PreTrainedTokenizerFast(
            tokenizer_object=tok,
            bos_token="<s>",
            eos_token="</s>",
            pad_token="<pad>",
            unk_token="<unk>",
            mask_token="<mask>",
            cls_token="<s>",
            sep_token="</s>",
        )
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials)
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        mask_token="[MASK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )


def build_tiny_model(
    path: Path,
    *,
    kind: str = "roberta",
    relbert_config: dict[str, Any] | None = None,
    seed: int = 0,
    hidden: int = 32,
    layers: int = 2,
) -> Path:
    """Save a randomly initialised tiny RoBERTa (or BERT) + tokenizer into ``path``."""
    import torch
    from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel

    torch.manual_seed(seed)
    tokenizer = _train_tokenizer(kind)
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
    )
    if kind == "roberta":
        config = RobertaConfig(
            **common, max_position_embeddings=80, pad_token_id=1, bos_token_id=0, eos_token_id=2
        )
        model = RobertaModel(config, add_pooling_layer=False)
    else:
        config = BertConfig(**common, max_position_embeddings=80, pad_token_id=0)
        model = BertModel(config, add_pooling_layer=False)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    if relbert_config is not None:
        cfg_path = path / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["relbert_config"] = relbert_config
        cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False))
    return path
