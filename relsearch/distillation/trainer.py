"""Training a student to reproduce the teacher's prompt vectors (cosine loss), epoch by epoch.

Each step takes a batch of distillation pairs, fills the teacher's template with the student's
mask token, pools like the teacher (through the width head if any) and minimises
``1 - cos(student, teacher)``. With ``relbert_weight`` > 0 the step adds that weight times the
RelBERT InfoNCE loss of one SemEval-2012 training relation (its training positives against
``relbert_negatives`` sampled negatives, as ``relsearch train`` does), the relations taken in
a seeded order that repeats over the epoch. With ``similarity_weight`` > 0 it adds that weight
times the relational term of :mod:`relsearch.distillation.similarity_loss`: the student's softmax
over in-batch cosines must match the teacher's. After every epoch: the mean cosine on held-out
distillation pairs, the analogy accuracy of the student's prompt vectors on the six validation
splits that ``relsearch train`` selects on, a checkpoint, and an export of the best epoch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relsearch.distillation.similarity_loss import MIN_SIMILARITY_BATCH, similarity_kl
from relsearch.encoding import RelationEncoder
from relsearch.encoding.batching import pad_batch
from relsearch.encoding.pooling import pool
from relsearch.errors import RelsearchError
from relsearch.evaluation.analogy import evaluate_analogies
from relsearch.pairs import Pair
from relsearch.progress import progress_bar
from relsearch.templates import fill_template
from relsearch.training.loss import DEFAULT_TEMPERATURE, info_nce
from relsearch.training.semeval import load_training_data
from relsearch.training.validation import load_valid_sets, valid_pairs


@dataclass
class StudentRun:
    """Hyper-parameters of the student's training."""

    epochs: int = 3
    lr: float = 1e-4
    batch_size: int = 128
    warmup_fraction: float = 0.05
    weight_decay: float = 0.01
    seed: int = 0
    holdout: int = 2000
    bf16: bool = False
    relbert_weight: float = 0.0  # weight of the SemEval InfoNCE term; 0: distillation loss only
    relbert_negatives: int = 64
    temperature: float = DEFAULT_TEMPERATURE
    similarity_weight: float = 0.0  # weight of the in-batch similarity term; 0: off
    similarity_temperature: float = 0.05

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def check(self) -> None:
        """Reject impossible values with a message naming the options."""
        floats = (self.lr, self.relbert_weight, self.temperature)
        floats += (self.similarity_weight, self.similarity_temperature)
        if not all(math.isfinite(x) for x in floats):
            raise RelsearchError("--lr, the loss weights and the temperatures must be finite numbers")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise RelsearchError("--epochs and --batch-size must be at least 1 and --lr positive")
        if self.relbert_weight < 0 or self.relbert_negatives < 1:
            raise RelsearchError("--relbert-weight must be 0 or more and --relbert-negatives at least 1")
        if self.similarity_weight < 0 or not self.similarity_temperature > 0:
            raise RelsearchError(
                "--similarity-weight must be 0 or more and --similarity-temperature positive"
            )
        if self.similarity_weight and self.batch_size < MIN_SIMILARITY_BATCH:
            raise RelsearchError(
                f"--similarity-weight needs --batch-size {MIN_SIMILARITY_BATCH} or more: "
                "it compares each pair with the other pairs of its batch"
            )

    def identity(self) -> dict[str, Any]:
        """The settings a resumed run must share (an extra term's only when that term is on)."""
        ident = {k: v for k, v in self.to_dict().items() if k != "epochs"}
        if not self.relbert_weight:
            for key in ("relbert_weight", "relbert_negatives", "temperature"):
                del ident[key]
        if not self.similarity_weight:
            for key in ("similarity_weight", "similarity_temperature"):
                del ident[key]
        return ident


class StudentTrainer:
    """The student, its optimiser and the tokenised distillation set."""

    def __init__(
        self,
        student: RelationEncoder,
        pairs: list[Pair],
        targets: np.ndarray,
        run: StudentRun,
        data_dir: Path,
        *,
        progress: bool = False,
    ) -> None:
        self.student, self.run, self.progress = student, run, progress
        rng = np.random.default_rng(run.seed)
        order = rng.permutation(len(pairs))
        n_hold = min(run.holdout, len(pairs) // 10)
        self.hold_idx, self.train_idx = np.sort(order[:n_hold]), order[n_hold:]
        self.pairs = pairs
        self.targets = targets
        self.ids = self._tokenise(pairs)
        relations = load_training_data(data_dir, seed=run.seed).relations if run.relbert_weight else []
        self.relations = [r for r in relations if len(r.train_positives) >= 2 and r.negatives]
        rel_pairs = list(dict.fromkeys(p for r in self.relations for p in (*r.train_positives, *r.negatives)))
        rel_row = {p: i for i, p in enumerate(rel_pairs)}
        self.rel_ids = self._tokenise(rel_pairs)
        self.rel_pos = [np.asarray([rel_row[p] for p in r.train_positives]) for r in self.relations]
        self.rel_neg = [np.asarray([rel_row[p] for p in r.negatives]) for r in self.relations]
        tok = student.tokenizer
        self.mask_id = int(tok.mask_token_id)
        self.pad_id = int(tok.pad_token_id if tok.pad_token_id is not None else 0)
        self.valid_sets = load_valid_sets(data_dir)
        self.modules = torch.nn.ModuleDict({"model": student.model})
        if student.head is not None:
            self.modules["head"] = student.head
        self.params = {n: p for n, p in self.modules.named_parameters() if p.requires_grad}
        decay = [p for n, p in self.params.items() if p.ndim >= 2]
        no_decay = [p for n, p in self.params.items() if p.ndim < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": run.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=run.lr,
        )
        self.steps_per_epoch = math.ceil(len(self.train_idx) / run.batch_size)
        self.total_steps = self.steps_per_epoch * run.epochs

    def _tokenise(self, pairs: list[Pair]) -> list[list[int]]:
        tok = self.student.tokenizer
        prompts = [fill_template(self.student.template, h, t, tok.mask_token) for h, t in pairs]
        return (
            tok(prompts, truncation=True, max_length=self.student.max_length)["input_ids"] if prompts else []
        )

    # -- one batch ------------------------------------------------------------------------------
    def _vectors(self, rows: np.ndarray, ids: list[list[int]] | None = None) -> torch.Tensor:
        ids_of = self.ids if ids is None else ids
        input_ids, attention = pad_batch([ids_of[i] for i in rows.tolist()], self.pad_id)
        ids, att = torch.from_numpy(input_ids), torch.from_numpy(attention)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.run.bf16):
            hidden = self.student.model(input_ids=ids, attention_mask=att).last_hidden_state
        pooled = pool(hidden, ids, att, self.mask_id, self.student.aggregation)
        if self.student.head is not None:
            pooled = self.student.head(pooled)
        return torch.nn.functional.normalize(pooled.float(), dim=1)

    def _lr(self, step: int) -> float:
        warmup = max(1, round(self.run.warmup_fraction * self.total_steps))
        if step < warmup:
            return self.run.lr * (step + 1) / warmup
        return self.run.lr * max(0.0, (self.total_steps - step) / max(1, self.total_steps - warmup))

    def _relbert_loss(self, relation: int, rng: np.random.Generator) -> torch.Tensor:
        """InfoNCE of one SemEval relation: its training positives against sampled negatives."""
        pos, pool = self.rel_pos[relation], self.rel_neg[relation]
        neg = pool[rng.choice(len(pool), size=min(self.run.relbert_negatives, len(pool)), replace=False)]
        vecs = self._vectors(np.concatenate([pos, neg]), self.rel_ids)
        return info_nce(vecs[: len(pos)], vecs[len(pos) :], self.run.temperature)

    def train_epoch(self, epoch: int, step: int) -> tuple[dict[str, float], int]:
        """One pass over the training pairs in a seeded order; returns the mean losses and the step.

        The losses are ``train_loss`` (what is minimised) and, with an extra term, ``distill_loss``
        (the cosine loss) and ``relbert_loss`` or ``similarity_loss``.
        """
        rng = np.random.default_rng([self.run.seed, epoch])
        torch.manual_seed(self.run.seed * 1_000_003 + epoch)
        order = self.train_idx[rng.permutation(len(self.train_idx))]
        relation_order = rng.permutation(len(self.relations)) if self.relations else None
        self.modules.train()
        names = ("train_loss", "distill_loss", "relbert_loss", "similarity_loss")
        losses: dict[str, list[float]] = {name: [] for name in names}
        bs = self.run.batch_size
        with progress_bar(len(order), f"epoch {epoch}/{self.run.epochs}", enabled=self.progress) as advance:
            for start in range(0, len(order), bs):
                rows = order[start : start + bs]
                for group in self.optimizer.param_groups:
                    group["lr"] = self._lr(step)
                target = torch.from_numpy(self.targets[rows].astype(np.float32))
                vectors = self._vectors(rows)
                loss = distill_loss = 1.0 - (vectors * target).sum(dim=1).mean()
                if relation_order is not None:
                    relation = int(relation_order[(start // bs) % len(relation_order)])
                    relbert_loss = self._relbert_loss(relation, rng)
                    loss = loss + self.run.relbert_weight * relbert_loss
                    losses["relbert_loss"].append(float(relbert_loss.detach()))
                if self.run.similarity_weight and len(rows) >= MIN_SIMILARITY_BATCH:
                    similarity_loss = similarity_kl(vectors, target, self.run.similarity_temperature)
                    loss = loss + self.run.similarity_weight * similarity_loss
                    losses["similarity_loss"].append(float(similarity_loss.detach()))
                if loss is not distill_loss:
                    losses["distill_loss"].append(float(distill_loss.detach()))
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(list(self.params.values()), 1.0)
                self.optimizer.step()
                losses["train_loss"].append(float(loss.detach()))
                step += 1
                advance(len(rows))
        return {k: float(np.mean(v)) for k, v in losses.items() if v}, step

    # -- validation -----------------------------------------------------------------------------------
    @torch.inference_mode()
    def _unit_vectors(self, rows: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(rows), 256):
            out.append(self._vectors(rows[start : start + 256]).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.targets.shape[1]), np.float32)

    @torch.inference_mode()
    def validate(self) -> dict[str, Any]:
        """Held-out cosine to the teacher and validation analogy accuracy (prompt vectors)."""
        self.modules.eval()
        hold = self._unit_vectors(self.hold_idx)
        cos = np.sum(hold * self.targets[self.hold_idx].astype(np.float32), axis=1)
        pairs = valid_pairs(self.valid_sets)
        vectors = self.student.encode(pairs, batch_size=256)
        row = {p: i for i, p in enumerate(pairs)}
        analogy = {
            name: evaluate_analogies(qs, lambda ps: vectors[[row[p] for p in ps]]).accuracy
            for name, qs in self.valid_sets.items()
        }
        return {
            "holdout_cosine": float(np.mean(cos)) if len(cos) else None,
            "holdout_cosine_p05": float(np.percentile(cos, 5)) if len(cos) else None,
            "analogy": analogy,
            "mean_analogy": float(np.mean(list(analogy.values()))),
        }

    def check_vectors(self, pairs: list[Pair]) -> np.ndarray:
        """The student's float32 unit prompt vectors of ``pairs`` (the export check)."""
        self.modules.eval()
        return self.student.encode(pairs, batch_size=256)
