"""``build_index``: vocabulary or pairs → candidate pairs → sharded encoding → FAISS + Parquet.

Four stages: *prepare* (check the arguments, read the input, check ``--out``, take its lock,
load the encoder), *candidates* (:mod:`index_builder.inputs`), *encode*
(:mod:`index_builder.encode_stage`) and *finalize* (:mod:`index_builder.finalize`); ``add``
(:mod:`index_builder.update`) shares the last two. The order of writes makes every stop safe:
nothing is written before the input is read and checked; ``embeddings/checkpoint.json`` comes
first, then ``pairs.parquet``, the shards (each atomic and recorded in the checkpoint),
``index.faiss``, and the manifest ``relsearch.json`` last; the checkpoint is removed after it.
Re-running the same build resumes from the shards that still match their records.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from index_builder.defaults import DEFAULT_BATCH_SIZE, DEFAULT_K, DEFAULT_SHARD_SIZE, ENGINES
from index_builder.encode_stage import Engine, encode_stage
from index_builder.encoder_spec import EncoderSpec
from index_builder.finalize import build_faiss, host_info, peak_rss, shard_records, store_word_vectors
from index_builder.index_choice import IndexPlan, estimate_build_memory, parse_memory, plan_index
from index_builder.inputs import BuildInput, candidate_table, read_input
from index_builder.out_dir import DirState, foreign_error, inspect_out_dir, remove_if_empty, remove_index
from index_builder.shards import PairEncoder, ShardCallback, kept_shards
from index_builder.word_model import resolve_word_model
from relsearch.errors import DamagedFileError, IndexFormatError, RelsearchError
from relsearch.pairs import PairLike
from relsearch.storage.atomic import remove_temp_files
from relsearch.storage.checkpoint import Checkpoint
from relsearch.storage.checksums import file_record
from relsearch.storage.layout import EMBEDDINGS_DIR, MANIFEST_FILE, PAIRS_FILE
from relsearch.storage.lock import IndexLock
from relsearch.storage.manifest import build_manifest, read_manifest, write_manifest
from relsearch.storage.pairs_parquet import (
    pairs_stamp,
    pairs_table,
    read_pairs,
    stamp_matches,
    write_pairs_parquet,
)
from relsearch.storage.shard_files import shard_count

log = logging.getLogger("relsearch")


@dataclass
class BuildReport:
    """What a build (or a dry run) did, measured, or estimated."""

    out_dir: str
    dry_run: bool
    pairs: int
    words: int
    shards: int
    input: dict[str, Any]
    encoder: dict[str, Any]
    index_plan: dict[str, Any]
    shards_encoded: int = 0
    shards_reused: int = 0
    faiss: dict[str, Any] | None = None
    ray: dict[str, Any] | None = None
    durations: dict[str, float] = field(default_factory=dict)
    estimates: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def say(message: str, enabled: bool) -> None:
    """A progress message on stderr when ``enabled``, else an INFO log line."""
    if enabled:
        from rich.console import Console

        Console(stderr=True, highlight=False, soft_wrap=True, emoji=False).print(message, markup=False)
    else:
        log.info("%s", message)


def make_encoder(
    model: str | os.PathLike[str] | None,
    encoder: PairEncoder | EncoderSpec | None,
    dtype: str,
    batch_size: int,
    backend: str = "torch",
) -> PairEncoder:
    if encoder is not None:
        if model is not None:
            raise RelsearchError("give either model or encoder, not both")
        return encoder.create() if isinstance(encoder, EncoderSpec) else encoder
    from relsearch.encoding import RelationEncoder

    return RelationEncoder(model, dtype=dtype, batch_size=batch_size, backend=backend)


def calibrated_encoder(
    model: str | os.PathLike[str] | None,
    encoder: PairEncoder | EncoderSpec | None,
    dtype: str,
    batch_size: int,
    backend: str,
    progress: bool,
    resumed: bool = False,
) -> tuple[PairEncoder, dict[str, Any]]:
    """:func:`make_encoder`; with ``auto`` and no cached calibration, calibrate first (once per
    machine and model; see :mod:`relsearch.encoding.backend`). Also returns what was chosen and why."""
    from relsearch.encoding import backend as backends

    enc = make_encoder(model, encoder, dtype, batch_size, backend)
    if encoder is not None:
        return enc, {"why": "the encoder object given"}
    if resumed:
        why = "as the interrupted build was started"
    elif "auto" in (dtype, backend) and enc.device.type == "cpu":
        choice = backends.cached_choice(enc.content_fingerprint)
        if choice is None:
            say("calibrating backend and precision on this machine (once per CPU and model)", progress)
            choice = backends.calibrate(
                enc,
                backends.calibration_pairs(),
                backend=backend,
                dtype=dtype,
                say=lambda m: say(m, progress),
            )
        why = f"calibrated on {choice.get('cpu', 'this CPU')}: {choice.get('why')}"
    elif "auto" in (dtype, backend):
        why = "from the device (no calibration off the CPU)"
    else:
        why = "as requested"
    say(f"encoding with {enc.backend} {enc.dtype} ({why})", progress)
    return enc, {"backend": enc.backend, "dtype": enc.dtype, "why": why}


def check_out_dir(out: Path, state: DirState, overwrite: bool) -> None:
    """Refuse a foreign ``--out``, and a complete index without ``overwrite``."""
    if state is DirState.FOREIGN:
        raise foreign_error(out)
    if state is DirState.COMPLETE and not overwrite:
        try:
            manifest = read_manifest(out)
            what = f"{manifest['counts']['pairs']:,} pairs, built {manifest.get('created', '?')}"
        except (IndexFormatError, KeyError, TypeError):
            what = "a manifest"
        raise IndexFormatError(
            f"{str(out)!r} already holds a complete relsearch index ({what}); pass --overwrite to "
            "replace it, or choose another --out (or add pairs to it with `relsearch add`)"
        )


def worker_spec(encoder: Any, enc: PairEncoder, dtype: str, batch_size: int) -> EncoderSpec:
    """How Ray workers rebuild the driver's encoder: the given spec, or its model as resolved here."""
    if isinstance(encoder, EncoderSpec):
        return encoder
    if encoder is not None:
        raise RelsearchError(
            "--engine ray builds the encoder inside each worker: pass model= or an "
            "index_builder.encoder_spec.EncoderSpec, not an encoder object"
        )
    described = enc.describe()  # the resolved dtype: workers must not resolve "auto" on their own CPUs
    return EncoderSpec.relation_encoder(
        described["model"],
        dtype=described.get("dtype", dtype),
        batch_size=batch_size,
        backend=described.get("backend", "torch"),
    )


def check_engine(engine: str, ray_address: str | None, workers: int | None) -> None:
    if engine not in ENGINES:
        raise RelsearchError(f"unknown engine {engine!r}; available: {', '.join(ENGINES)}")
    if engine != "ray" and (ray_address is not None or workers is not None):
        raise RelsearchError("--ray-address and --workers apply to --engine ray only")
    if workers is not None and workers < 1:
        raise RelsearchError(f"--workers must be at least 1, got {workers}")
    if engine == "ray":
        from index_builder.ray_engine import require_ray

        require_ray()


def estimate(
    table: pa.Table, encoder: PairEncoder, plan: IndexPlan, shard_size: int, batch_size: int
) -> dict[str, Any]:
    """Time from a short measured sample; memory and disk from the plan."""
    import psutil

    n = table.num_rows
    heads, tails = table.column("head").to_pylist(), table.column("tail").to_pylist()
    sample = np.unique(np.linspace(0, n - 1, min(n, max(4 * batch_size, 128))).astype(np.int64))
    encoder.encode([(heads[i], tails[i]) for i in sample[:batch_size]], batch_size=batch_size)  # warm-up
    t0 = time.perf_counter()
    encoder.encode([(heads[i], tails[i]) for i in sample], batch_size=batch_size)
    rate = len(sample) / max(time.perf_counter() - t0, 1e-9)
    rss = psutil.Process().memory_info().rss
    return {
        "sample_pairs": len(sample),
        "pairs_per_second": round(rate, 1),
        "encode_seconds": round(n / rate, 1),
        "peak_memory_bytes": estimate_build_memory(plan, encoder.dim, shard_size, rss),
        "disk_bytes": int(n * encoder.dim * 2 + plan.index_bytes + table.nbytes),
    }


def count_words(table: pa.Table) -> int:
    columns = [table.column(name).cast(pa.large_string()) for name in ("head", "tail")]
    return int(pc.count_distinct(pa.chunked_array(columns[0].chunks + columns[1].chunks)).as_py())


def _resumable_pairs(
    out: Path, checkpoint: Checkpoint, info: dict[str, Any], fingerprint: str | None
) -> pa.Table | None:
    """The partial build's ``pairs.parquet`` if it is this build's and intact, else None."""
    path = out / PAIRS_FILE
    if not stamp_matches(path, info["fingerprint"], fingerprint):
        return None
    try:
        return read_pairs(path, checkpoint.files.get(PAIRS_FILE))
    except DamagedFileError as exc:
        log.warning("relsearch: %s %s; writing it again", PAIRS_FILE, exc.problem)
        return None


def build_index(
    out_dir: str | os.PathLike[str],
    *,
    vocab: str | os.PathLike[str] | Sequence[str] | None = None,
    pairs: str | os.PathLike[str] | Iterable[PairLike] | None = None,
    model: str | os.PathLike[str] | None = None,
    encoder: PairEncoder | EncoderSpec | None = None,
    k: int = DEFAULT_K,
    all_pairs: bool = False,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    memory_budget: str | int | None = None,
    index_key: str | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    progress: bool = False,
    dtype: str = "auto",
    word_model: str | None = None,
    after_shard: ShardCallback | None = None,
    backend: str = "auto",
) -> BuildReport:
    """Build (or resume, or estimate) a relsearch index in ``out_dir``.

    Exactly one of ``vocab`` (a file, or a list of words: candidate pairs are each word's ``k``
    nearest words in both directions, or every ordered pair with ``all_pairs``) and ``pairs``
    (a TSV/CSV/Parquet file, or a list of pairs; extra columns are kept as metadata).
    ``encoder`` (a ``PairEncoder``: ``encode``, ``encode_words``, ``dim``, ``describe()`` and
    ``fingerprint``) or an ``EncoderSpec`` replaces loading ``model``. ``word_model`` picks candidate
    pairs (see :mod:`index_builder.word_model`; default: a delta model's base model). ``engine="ray"`` encodes
    on a Ray Data actor pool of ``workers`` actors (default: one per CPU), on a local Ray
    instance or the cluster at ``ray_address``; it needs ``model`` or an ``EncoderSpec``, and
    gives the same files as ``"local"``. Raises ``RelsearchError`` on bad input and
    never deletes an existing index unless ``overwrite``; ``KeyboardInterrupt`` leaves a
    resumable build. ``dry_run`` writes nothing and returns estimates (and refuses an ``--out``
    that the build would refuse). ``after_shard(k)`` is called once shard ``k`` is written and
    recorded (tests stop a build there). Another process writing ``out_dir`` makes this one
    raise ``IndexLockedError`` at once.
    """
    t_start = time.perf_counter()
    # -- prepare ----------------------------------------------------------------------------------
    check_engine(engine, ray_address, workers)
    for name, value in (("shard_size", shard_size), ("batch_size", batch_size)):
        if value < 1:
            raise RelsearchError(f"{name.replace('_', '-')} must be at least 1, got {value}")
    budget = parse_memory(memory_budget)
    out = Path(out_dir)
    if encoder is not None and model is not None:
        raise RelsearchError("give either model or encoder, not both")
    check_out_dir(out, inspect_out_dir(out), overwrite)
    if dry_run:
        inp = read_input(vocab, pairs, k, all_pairs, resolve_word_model(word_model, model, encoder))
        return _dry_run(
            out, inp, model, encoder, dtype, batch_size, shard_size, budget, index_key, t_start, backend
        )
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with IndexLock(out, "relsearch build-index"):  # before anything slow: a second writer stops at once
            state = inspect_out_dir(out)  # again: another writer may have finished meanwhile
            check_out_dir(out, state, overwrite)
            inp = read_input(vocab, pairs, k, all_pairs, resolve_word_model(word_model, model, encoder))
            return _build_locked(
                out,
                inp,
                state,
                model=model,
                encoder=encoder,
                k=k,
                shard_size=shard_size,
                batch_size=batch_size,
                budget=budget,
                index_key=index_key,
                engine=engine,
                ray_address=ray_address,
                workers=workers,
                overwrite=overwrite,
                progress=progress,
                dtype=dtype,
                backend=backend,
                after_shard=after_shard,
                t_start=t_start,
            )
    except BaseException:
        if created:
            remove_if_empty(out)
        raise


def _dry_run(
    out: Path,
    inp: BuildInput,
    model: Any,
    encoder: Any,
    dtype: str,
    batch_size: int,
    shard_size: int,
    budget: int,
    index_key: str | None,
    t_start: float,
    backend: str = "auto",
) -> BuildReport:
    durations = {"read_input": time.perf_counter() - t_start}
    enc = make_encoder(model, encoder, dtype, batch_size, backend)
    table = pairs_table(candidate_table(inp, enc, inp.info.get("k") or 0, batch_size))
    n = table.num_rows
    plan = plan_index(n, enc.dim, budget, index_key)
    report = BuildReport(
        str(out),
        True,
        n,
        count_words(table),
        shard_count(n, shard_size),
        inp.info,
        enc.describe(),
        plan.to_dict(),
    )
    report.estimates = {
        **estimate(table, enc, plan, shard_size, batch_size),
        "out_dir": inspect_out_dir(out).value,
    }
    durations["total"] = time.perf_counter() - t_start
    report.durations = {name: round(v, 2) for name, v in durations.items()}
    return report


def _build_locked(
    out: Path,
    inp: BuildInput,
    state: DirState,
    *,
    model: Any,
    encoder: Any,
    k: int,
    shard_size: int,
    batch_size: int,
    budget: int,
    index_key: str | None,
    engine: str,
    ray_address: str | None,
    workers: int | None,
    overwrite: bool,
    progress: bool,
    dtype: str,
    after_shard: ShardCallback | None,
    t_start: float,
    backend: str = "auto",
) -> BuildReport:
    durations = {"read_input": time.perf_counter() - t_start}
    t0 = time.perf_counter()
    resumed = state is DirState.PARTIAL and not overwrite and encoder is None and "auto" in (dtype, backend)
    if resumed:  # resume as it was started
        started = Checkpoint.read(out).encoder
        dtype = str(started.get("dtype") or dtype) if dtype == "auto" else dtype
        backend = str(started.get("backend") or "torch") if backend == "auto" else backend
    enc, choice = calibrated_encoder(model, encoder, dtype, batch_size, backend, progress, resumed)
    describe = enc.describe()
    spec = worker_spec(encoder, enc, dtype, batch_size) if engine == "ray" else None
    durations["load_model"] = time.perf_counter() - t0

    resume = state is DirState.PARTIAL and not overwrite
    table = None
    if resume:
        checkpoint = Checkpoint.read(out)
        why = checkpoint.mismatch(Checkpoint(describe, inp.info, 0, shard_size, enc.dim))
        if why:
            raise IndexFormatError(
                f"{str(out)!r} holds a partial build that this run cannot resume: {why}. Pass --overwrite "
                "to discard it and start over."
            )
        table = _resumable_pairs(out, checkpoint, inp.info, describe.get("fingerprint"))
    # -- candidates -------------------------------------------------------------------------------
    t0 = time.perf_counter()
    reuse_pairs = table is not None
    if table is None:
        say(f"input: {inp.info['source']} ({inp.info['kind']})", progress)
        table = pairs_table(candidate_table(inp, enc, k, batch_size))
    durations["candidates"] = time.perf_counter() - t0
    n = table.num_rows
    words = count_words(table)
    shards = shard_count(n, shard_size)
    plan = plan_index(n, enc.dim, budget, index_key)
    report = BuildReport(str(out), False, n, words, shards, inp.info, describe, plan.to_dict())
    say(f"{n:,} pairs over {words:,} words; index {plan.factory} ({plan.reason})", progress)

    if not resume:
        if state is not DirState.EMPTY:
            remove_index(out)
        (out / EMBEDDINGS_DIR).mkdir(parents=True, exist_ok=True)
        checkpoint = Checkpoint(describe, inp.info, n, shard_size, enc.dim)
        checkpoint.write(out)
    checkpoint.pairs = n
    if not reuse_pairs:
        record = write_pairs_parquet(
            table, out / PAIRS_FILE, pairs_stamp(n, inp.info, describe.get("fingerprint"))
        )
        checkpoint.record(out, PAIRS_FILE, record)
    elif PAIRS_FILE not in checkpoint.files:
        checkpoint.record(out, PAIRS_FILE, file_record(out / PAIRS_FILE))

    # -- encode -----------------------------------------------------------------------------------
    remove_temp_files(out)
    remove_temp_files(out / EMBEDDINGS_DIR)
    done = kept_shards(out, checkpoint)
    if done:
        say(f"resuming: {len(done)} of {shards} shards already encoded (checked)", progress)
    t0 = time.perf_counter()
    run = encode_stage(
        out,
        table,
        enc,
        checkpoint,
        done=done,
        batch_size=batch_size,
        engine=Engine(spec, ray_address, workers),
        progress=progress,
        after_shard=after_shard,
    )
    report.ray = run.ray
    durations["encode"] = time.perf_counter() - t0

    # -- finalize ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    files = {PAIRS_FILE: checkpoint.files[PAIRS_FILE], **shard_records(checkpoint)}
    stored_words = store_word_vectors(out, enc, table, lambda m: say(m, progress))
    if stored_words is not None:
        files[stored_words[0]["file"]] = stored_words[1]
    durations["word_vectors"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result, faiss_record = build_faiss(out, checkpoint, plan, lambda m: say(m, progress))
    files["index.faiss"] = faiss_record
    durations["faiss"] = time.perf_counter() - t0
    durations["total"] = time.perf_counter() - t_start
    faiss_info = result.manifest_block(plan.reason, faiss_record.bytes)
    rounded = {name: round(v, 2) for name, v in durations.items()}
    build = {
        "settings": {
            "k": inp.info.get("k"),
            "all_pairs": bool(inp.info.get("all_pairs")),
            "shard_size": shard_size,
            "batch_size": batch_size,
            "memory_budget_bytes": budget,
            "index_key": index_key,
            "engine": engine,
        },
        "durations_s": rounded,
        "shards_encoded": run.encoded,
        "shards_reused": len(done),
        "peak_rss_bytes": peak_rss(),
        "host": host_info(),
        "backend": choice,
    }
    if report.ray is not None:
        build["ray"] = report.ray
    manifest = build_manifest(
        encoder=describe,
        faiss_info=faiss_info,
        counts={"pairs": n, "words": words, "shards": shards},
        shard_size=shard_size,
        input_info=inp.info,
        build=build,
        files=files,
    )
    if stored_words is not None:
        manifest["word_vectors"] = stored_words[0]
    write_manifest(out, manifest)
    Checkpoint.path(out).unlink(missing_ok=True)
    say(f"index written to {out / MANIFEST_FILE}", progress)
    report.shards_encoded, report.shards_reused = run.encoded, len(done)
    report.faiss, report.durations = faiss_info, rounded
    return report
