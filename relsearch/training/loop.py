"""The training loop: one InfoNCE step per relation per epoch, validation, checkpoints, export."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relsearch import __version__
from relsearch.encoding import RelationEncoder
from relsearch.encoding.loading import resolve_spec
from relsearch.encoding.residual_delta import ENCODING as RESIDUAL_INT8
from relsearch.errors import RelsearchError
from relsearch.index.format import write_json_atomic
from relsearch.progress import progress_bar
from relsearch.templates import AGGREGATIONS
from relsearch.training.checkpoint import (
    CHECKPOINTS,
    identity_changes,
    latest_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from relsearch.training.export import export_model, update_card
from relsearch.training.layer_split import LayerSplit
from relsearch.training.loss import DEFAULT_TEMPERATURE, info_nce
from relsearch.training.model_card import render_card
from relsearch.training.prompt_bank import PromptBank
from relsearch.training.semeval import TrainingData, default_data_dir, load_training_data
from relsearch.training.validation import load_valid_sets, valid_pairs, validate

log = logging.getLogger("relsearch")

LOG_FILE = "train_log.jsonl"
SUMMARY_FILE = "summary.json"
BEST_DIR = "best"
CHECK_PAIRS = 32
TRAIN_DTYPES = ("auto", "float32", "bfloat16")
SCHEDULES = ("constant", "linear")
#: Settings that may change between an interrupted run and its resumption.
RESUMABLE = ("epochs", "batch_size", "out", "data", "full_export", "cache", "select")
SELECTIONS = ("best", "last")


@dataclass
class TrainConfig:
    """Everything that defines a training run."""

    base: str
    out: Path
    data: Path | None = None
    epochs: int = 10
    lr: float = 2e-5
    negatives: int = 400
    train_layers: int = 6
    template: str = "a"
    pooling: str | None = None  # None: the base model's own (average_no_mask for a sentence encoder)
    batch_size: int = 64
    seed: int = 0
    dtype: str = "auto"  # bfloat16 autocast on CPUs with bf16 units, float32 elsewhere
    temperature: float = DEFAULT_TEMPERATURE
    warmup: int = 10
    schedule: str = "constant"  # after warm-up: constant, or linear decay to 0 at the last step
    valid_fraction: float = 0.2
    select: str = "best"  # the epoch exported to best/: best validation mean, or the last one
    full_export: bool = False
    cache: bool = True
    negative_bank: bool = False

    def check(self) -> None:
        """Reject impossible values with a message naming the option."""
        for name, low in (("epochs", 1), ("negatives", 1), ("batch_size", 1), ("warmup", 0)):
            if getattr(self, name) < low:
                raise RelsearchError(
                    f"--{name.replace('_', '-')} must be at least {low}, got {getattr(self, name)}"
                )
        if not self.lr > 0 or not self.temperature > 0:
            raise RelsearchError(
                f"lr and temperature must be positive (lr={self.lr}, temperature={self.temperature})"
            )
        for label, value, valid in (
            ("dtype", self.dtype, TRAIN_DTYPES),
            ("selection", self.select, SELECTIONS),
            ("schedule", self.schedule, SCHEDULES),
            ("pooling", self.pooling, AGGREGATIONS),  # None: the base model's own
        ):
            if value is not None and value not in valid:
                raise RelsearchError(f"unknown {label} {value!r}; valid: {', '.join(valid)}")

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}

    def identity(self, base_source: str, data_fingerprint: str) -> dict[str, Any]:
        """The settings a resumed run must share with the checkpoint."""
        ident = {k: v for k, v in self.to_dict().items() if k not in RESUMABLE}
        if self.schedule == "constant":
            del ident["schedule"]  # runs from before the option compare equal
        else:
            ident["epochs"] = self.epochs  # the decay depends on the run's length
        return {**ident, "base": base_source, "data_fingerprint": data_fingerprint}


def training_dtype(dtype: str) -> str:
    """``auto`` -> bfloat16 autocast where the CPU has bf16 units (AVX512-BF16, AMX), else float32.

    Without such units bfloat16 matmuls are emulated and slower than float32.
    """
    if dtype != "auto":
        return dtype
    from relsearch.encoding.cpu_features import cpu_features

    return "bfloat16" if cpu_features().bf16 else "float32"


def clear_outputs(out: Path) -> None:
    """Remove what a previous run wrote in ``out`` (only relsearch's own names)."""
    for name in (CHECKPOINTS, BEST_DIR):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in (LOG_FILE, SUMMARY_FILE):
        (out / name).unlink(missing_ok=True)


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """The rate of optimiser step ``step`` (0-based) of ``total_steps``: warm-up, then the schedule."""
    if config.warmup and step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    if config.schedule == "linear":
        span = max(1, total_steps - config.warmup)
        return config.lr * max(0.0, (total_steps - step) / span)
    return config.lr


def _seed_torch(seed: int, epoch: int) -> None:
    torch.manual_seed(seed * 1_000_003 + epoch)


def _set_train_mode(split: LayerSplit, dropout: bool = True) -> None:
    """Dropout in the trained layers only; frozen layers act as a fixed feature extractor."""
    model = split.model
    model.train(dropout)
    if split.embeddings_frozen and split.layers is not None:
        model.embeddings.eval()
        for layer in list(split.layers)[: split.cut]:
            layer.eval()


def selected_epoch(history: list[dict[str, Any]], select: str = "best") -> dict[str, Any] | None:
    """The epoch to export: the best mean validation accuracy (earliest on ties), or the last."""
    trained = [r for r in history if r["epoch"] > 0]
    if not trained:
        return None
    if select == "last":
        return max(trained, key=lambda r: r["epoch"])
    return max(trained, key=lambda r: (r["mean_analogy"], -r["epoch"]))


def _write_log(out: Path, history: list[dict[str, Any]]) -> None:
    tmp = out / f".{LOG_FILE}.tmp"
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in history), encoding="utf-8")
    os.replace(tmp, out / LOG_FILE)


class Trainer:
    """Holds the model, data and optimiser of one run; :meth:`run` trains and exports."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        resume: bool = True,
        progress: bool = False,
        on_epoch: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        config.check()
        config = dataclasses.replace(config, dtype=training_dtype(config.dtype))
        self.config = config
        self.progress = progress
        self.on_epoch = on_epoch or (lambda record: None)
        self.out = Path(config.out).expanduser()
        data_dir = Path(config.data).expanduser() if config.data else default_data_dir()
        self.data: TrainingData = load_training_data(
            data_dir, seed=config.seed, valid_fraction=config.valid_fraction
        )
        self.valid_sets = load_valid_sets(data_dir)
        base_source, _ = resolve_spec(config.base)
        self.identity = config.identity(base_source, self.data.fingerprint())
        if self.out.exists() and not self.out.is_dir():
            raise RelsearchError(f"--out {str(self.out)!r} exists and is not a directory")
        if not resume:
            clear_outputs(self.out)
        self.checkpoint = latest_checkpoint(self.out)
        if self.checkpoint is not None:
            changes = identity_changes(self.checkpoint.state.get("identity", {}), self.identity)
            if changes:
                raise RelsearchError(
                    f"{self.out} holds a checkpoint of a different run ({', '.join(changes)}); "
                    "use --overwrite to start again or choose another --out"
                )
        self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(config.seed)
        self.encoder = RelationEncoder(  # word_weight 0: training shapes the prompt vectors only
            config.base,
            template=config.template,
            aggregation=config.pooling,
            dtype=config.dtype,
            batch_size=config.batch_size,
            word_weight=0.0,
        )
        self.split = LayerSplit(self.encoder.model, config.train_layers)
        self.params = self.split.freeze()
        self.bank = PromptBank(
            self.encoder,
            self.split,
            [*self.data.distinct_pairs(), *valid_pairs(self.valid_sets)],
            batch_size=config.batch_size,
            bf16=config.dtype == "bfloat16",
        )
        self.optimizer = torch.optim.AdamW(list(self.params.values()), lr=config.lr, weight_decay=0.0)
        self.rel_pos = [np.asarray(self.bank.indices(r.train_positives)) for r in self.data.relations]
        self.rel_neg = [np.asarray(self.bank.indices(r.negatives)) for r in self.data.relations]
        self.check_idx = self.bank.indices(valid_pairs(self.valid_sets)[:CHECK_PAIRS])
        self.neg_table: torch.Tensor | None = None  # --negative-bank: unit vectors per bank pair

    # -- setup ------------------------------------------------------------------------------------
    def _build_cache(self) -> float:
        if not (self.config.cache and self.split.cacheable):
            return 0.0
        start = time.perf_counter()
        with progress_bar(len(self.bank), "caching frozen layers", enabled=self.progress) as advance:
            self.bank.build_cache(advance)
        probe = list(range(min(16, len(self.bank))))
        cached = self.bank.unit_vectors(probe, use_cache=True)
        plain = self.bank.unit_vectors(probe, use_cache=False)
        cos = float(np.min(np.sum(cached * plain, axis=1)))
        if cos < 0.9999:
            log.warning("cached-layer vectors differ from the full forward (cosine %.6f); not caching", cos)
            self.bank.states = None
        return time.perf_counter() - start

    # -- one epoch ----------------------------------------------------------------------------------
    def _step_loss(self, pos: np.ndarray, neg: np.ndarray) -> torch.Tensor:
        """InfoNCE of one relation: positives with gradients; negatives fresh or from the bank.

        With the bank, the partners j come from the bank too: only the anchors are current. If
        partners were current while negatives are stale, moving every output in one common
        direction would pull positives together and away from the stale negatives at once: a
        collapse that lowers the loss (seen on MPNet). The bank path also runs without dropout,
        so current and banked vectors come from the same function.
        """
        temperature = self.config.temperature
        if self.neg_table is None:
            vecs = self.bank.vectors([*pos.tolist(), *neg.tolist()], grad=True)
            return info_nce(vecs[: len(pos)], vecs[len(pos) :], temperature)
        vecs = self.bank.vectors(pos.tolist(), grad=True)
        pos_t, neg_t = torch.from_numpy(pos), torch.from_numpy(neg)
        loss = info_nce(vecs, self.neg_table[neg_t], temperature, partners=self.neg_table[pos_t])
        self.neg_table[pos_t] = torch.nn.functional.normalize(vecs.detach().float(), dim=1)
        return loss

    @property
    def total_steps(self) -> int:
        """Optimiser steps of the whole run: one per relation per epoch."""
        return self.config.epochs * len(self.data.relations)

    def _train_epoch(self, epoch: int, step: int) -> tuple[float, int]:
        cfg = self.config
        if cfg.negative_bank and self.neg_table is None:  # resumed run: rebuild the bank
            self.neg_table = torch.from_numpy(self.bank.unit_vectors(range(len(self.bank))))
        rng = np.random.default_rng([cfg.seed, epoch])
        _seed_torch(cfg.seed, epoch)
        _set_train_mode(self.split, dropout=not cfg.negative_bank)
        losses = []
        order = rng.permutation(len(self.data.relations))
        with progress_bar(len(order), f"epoch {epoch}/{cfg.epochs}", enabled=self.progress) as advance:
            for r in order:
                pos, pool = self.rel_pos[r], self.rel_neg[r]
                neg = pool[rng.choice(len(pool), size=min(cfg.negatives, len(pool)), replace=False)]
                lr = learning_rate(cfg, step, self.total_steps)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                loss = self._step_loss(pos, neg)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                step += 1
                losses.append(float(loss.detach()))
                advance(1)
        return float(np.mean(losses)), step

    def _validate(self) -> dict[str, Any]:
        scores, vectors = validate(self.bank, self.data, self.valid_sets, self.config.temperature)
        if self.config.negative_bank:
            self.neg_table = vectors
        return scores

    # -- outputs ------------------------------------------------------------------------------------
    def _info(self, history: list[dict[str, Any]], elapsed: float) -> dict[str, Any]:
        best = selected_epoch(history, self.config.select)
        return {
            "config": {**self.config.to_dict(), "base": self.identity["base"]},
            "template": self.encoder.template,
            "aggregation": self.encoder.aggregation,
            "data": self.data.summary(),
            "split": self.split.describe(),
            "trained_parameters": int(sum(p.numel() for p in self.params.values())),
            "history": history,
            "best_epoch": best["epoch"] if best else None,
            "train_seconds": elapsed,
            "hardware": f"{os.cpu_count()} CPU cores, torch {torch.__version__}",
            "relsearch_version": __version__,
        }

    def _export(self, info: dict[str, Any]) -> dict[str, Any]:
        kind = "full" if self.config.full_export else "delta"
        check = self.bank.unit_vectors(self.check_idx, bf16=False)
        meta = {"training": {k: info[k] for k in ("config", "data", "split", "best_epoch", "train_seconds")}}
        meta["training"]["best"] = selected_epoch(info["history"], self.config.select)
        return export_model(
            self.encoder,
            list(self.params),
            self.out / BEST_DIR,
            metadata=meta,
            card=render_card({**info, **_card_export(kind)}),
            full=self.config.full_export,
            check_pairs=[self.bank.pairs[i] for i in self.check_idx],
            check_vectors=check,
            delta_encoding=RESIDUAL_INT8,
        )

    def _save(
        self, epoch: int, step: int, elapsed: float, history: list[dict[str, Any]], export: Any
    ) -> None:
        """Checkpoint the current weights and optimiser as ``epoch``, with the run's state."""
        state = {"identity": self.identity, "step": step, "elapsed": elapsed, "history": history}
        save_checkpoint(self.out, epoch, self.params, self.optimizer, {**state, "export": export})

    # -- the run ------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train (or continue), validating, checkpointing and exporting after every epoch."""
        cfg = self.config
        run_start = time.perf_counter()
        cache_seconds = self._build_cache()
        history: list[dict[str, Any]] = []
        step, elapsed, export_info = 0, 0.0, None
        if self.checkpoint is not None:
            restore_checkpoint(self.checkpoint, self.params, self.optimizer)
            state = self.checkpoint.state
            history, step, elapsed = state["history"], int(state["step"]), float(state["elapsed"])
            export_info = state.get("export")
            log.info("resuming after epoch %d (%d optimiser steps)", self.checkpoint.epoch, step)
        else:
            t0 = time.perf_counter()
            record = {"epoch": 0, "train_loss": None, **self._validate()}
            record["seconds"] = time.perf_counter() - t0
            history.append(record)
            self.on_epoch(record)
        elapsed_before = elapsed
        first = (self.checkpoint.epoch if self.checkpoint else 0) + 1
        for epoch in range(first, cfg.epochs + 1):
            t0 = time.perf_counter()
            train_loss, step = self._train_epoch(epoch, step)
            train_seconds = time.perf_counter() - t0
            record = {"epoch": epoch, "train_loss": train_loss}
            record.update(self._validate())
            record.update(
                seconds=time.perf_counter() - t0,
                train_seconds=train_seconds,
                steps=step,
                lr=learning_rate(cfg, step - 1, self.total_steps),
            )
            history.append(record)
            elapsed = elapsed_before + time.perf_counter() - run_start
            info = self._info(history, elapsed)
            best = selected_epoch(history, cfg.select)
            if best is not None and best["epoch"] == epoch:
                record["best"] = True
                export_info = {**self._export(info), "epoch": epoch}
            elif (self.out / BEST_DIR).is_dir():
                kind = export_info["kind"] if export_info else None
                update_card(self.out / BEST_DIR, render_card({**info, **_card_export(kind)}))
            self._save(epoch, step, elapsed, history, export_info)
            _write_log(self.out, history)
            self.on_epoch(record)
        elapsed = elapsed_before + time.perf_counter() - run_start
        best = selected_epoch(history, cfg.select)
        if cfg.select == "last" and best is not None and (export_info or {}).get("epoch") != best["epoch"]:
            # a finished run re-selected with --select last: the checkpoint holds the last epoch
            export_info = {**self._export(self._info(history, elapsed)), "epoch": best["epoch"]}
            self._save(best["epoch"], step, elapsed, history, export_info)
        summary = {
            "out": str(self.out),
            "best_epoch": best["epoch"] if best else None,
            "best": best,
            "model": str(self.out / BEST_DIR) if best else None,
            "export": export_info,
            "epochs_done": max((r["epoch"] for r in history), default=0),
            "elapsed_seconds": elapsed,
            "cache_seconds": cache_seconds,
            "cached_bottom": self.bank.states is not None,
            "history": history,
            "config": self.config.to_dict(),
        }
        write_json_atomic(self.out / SUMMARY_FILE, summary)
        return summary


def _card_export(kind: str | None) -> dict[str, Any]:
    if kind is None:
        return {}
    note = (
        "a complete Hugging Face model directory"
        if kind == "full"
        else "only the trained tensors, as int8 codes of their difference to the base model named "
        "in relsearch_delta.json (one byte per weight; vectors in float32)"
    )
    return {"export_kind": kind, "export_note": note}


def train(config: TrainConfig, **kwargs: Any) -> dict[str, Any]:
    """Run (or resume) training; see :class:`Trainer`. Returns the run summary."""
    return Trainer(config, **kwargs).run()
