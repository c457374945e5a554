"""``build_index``: vocabulary or pairs → candidate pairs → sharded encoding → FAISS + Parquet.

The order of writes makes every stop safe: nothing is written before the input is read and
checked; ``embeddings/checkpoint.json`` comes first, then ``pairs.parquet``, the shards (each
atomic), ``index.faiss``, and the manifest ``relsearch.json`` last; the checkpoint is removed
after it. Re-running the same build resumes from the shards on disk.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import resource
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from index_builder.candidates import all_pair_ids, knn_pair_ids
from index_builder.defaults import DEFAULT_BATCH_SIZE, DEFAULT_K, DEFAULT_SHARD_SIZE, ENGINES
from index_builder.encoder_spec import EncoderSpec
from index_builder.faiss_build import build_faiss_index, write_index
from index_builder.index_choice import (
    IndexPlan,
    estimate_build_memory,
    parse_memory,
    plan_index,
)
from index_builder.manifest import build_manifest, write_manifest
from index_builder.metadata import pairs_stamp, pairs_table, read_pairs, stamp_matches, write_pairs_parquet
from index_builder.out_dir import DirState, foreign_error, inspect_out_dir, remove_index
from index_builder.pairs_file import PairsInput, pairs_from_list, read_pairs_file
from index_builder.progress import shard_progress
from index_builder.shards import (
    Checkpoint,
    PairEncoder,
    ShardReader,
    complete_shards,
    encode_missing_shards,
    remove_temp_files,
    shard_count,
    shard_range,
)
from index_builder.vocab import Vocabulary, read_vocab, vocab_from_words
from index_builder.word_model import RELATION_MODEL, resolve_word_model, word_vectors
from relsearch.errors import IndexFormatError, RelsearchError
from relsearch.index.format import (
    EMBEDDINGS_DIR,
    FAISS_FILE,
    MANIFEST_FILE,
    PAIRS_FILE,
    WORD_VECTORS_FILE,
    read_manifest,
)
from relsearch.pairs import PairLike

log = logging.getLogger("relsearch")

#: Names the candidate method in the input fingerprint: a change of method is a change of input.
CANDIDATE_METHOD = "word-vector-knn-v2"


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


@dataclass(frozen=True)
class _Input:
    """The validated input: a vocabulary or a pairs table, and its manifest description."""

    info: dict[str, Any]
    vocab: Vocabulary | None = None
    pairs: PairsInput | None = None


def _say(message: str, enabled: bool) -> None:
    if enabled:
        from rich.console import Console

        Console(stderr=True, highlight=False, soft_wrap=True).print(message, markup=False)
    else:
        log.info("%s", message)


def _read_input(
    vocab: str | os.PathLike[str] | Iterable[str] | None,
    pairs: str | os.PathLike[str] | Iterable[PairLike] | None,
    k: int,
    all_pairs: bool,
    word_model: str,
) -> _Input:
    if (vocab is None) == (pairs is None):
        raise RelsearchError("give exactly one of a vocabulary (VOCAB) and a pairs file (--pairs)")
    if vocab is not None:
        if all_pairs:
            k = 0
        elif k < 1:
            raise RelsearchError(f"--k must be at least 1, got {k}")
        words = read_vocab(vocab) if isinstance(vocab, str | os.PathLike) else vocab_from_words(vocab)
        key = f"{words.fingerprint}|{CANDIDATE_METHOD}|k={k}|all={all_pairs}|words={word_model}"
        info = {
            "kind": "vocab",
            "source": words.source,
            "fingerprint": hashlib.sha256(key.encode()).hexdigest()[:32],
            "words": len(words.words),
            "duplicates_dropped": words.duplicates,
            "k": None if all_pairs else k,
            "all_pairs": all_pairs,
            "word_model": None if all_pairs else word_model,
            "candidates": "all ordered pairs"
            if all_pairs
            else f"{CANDIDATE_METHOD}: k nearest words by cosine of mean-pooled single-word vectors "
            f"of {_word_model_name(word_model)}, both directions",
        }
        if all_pairs:
            all_pair_ids(len(words.words))  # refuses too large a vocabulary before any model loads
        return _Input(info, vocab=words)
    if all_pairs:
        raise RelsearchError("--all-pairs applies to a vocabulary, not to --pairs")
    table = read_pairs_file(pairs) if isinstance(pairs, str | os.PathLike) else pairs_from_list(pairs)
    info = {
        "kind": "pairs",
        "source": table.source,
        "fingerprint": table.fingerprint,
        "rows": table.table.num_rows + table.duplicates,
        "duplicates_dropped": table.duplicates,
        "metadata_columns": table.metadata_columns,
    }
    return _Input(info, pairs=table)


def _word_model_name(word_model: str) -> str:
    return "the relation model's transformer" if word_model == RELATION_MODEL else word_model


def _candidate_table(inp: _Input, encoder: PairEncoder, k: int, batch_size: int) -> pa.Table:
    """``head``/``tail`` (+ metadata) table, without ids."""
    if inp.pairs is not None:
        return inp.pairs.table
    assert inp.vocab is not None
    words = pa.array(inp.vocab.words, type=pa.string())
    if inp.info["all_pairs"]:
        heads, tails = all_pair_ids(len(words))
    else:
        vectors = word_vectors(
            inp.vocab.words, inp.info["word_model"], encoder, batch_size=max(batch_size, 128)
        )
        heads, tails = knn_pair_ids(vectors, k)
    return pa.table({"head": words.take(pa.array(heads)), "tail": words.take(pa.array(tails))})


def _make_encoder(model: str | os.PathLike[str] | None, encoder: Any, dtype: str, batch_size: int) -> Any:
    if encoder is not None:
        if model is not None:
            raise RelsearchError("give either model or encoder, not both")
        return encoder.create() if isinstance(encoder, EncoderSpec) else encoder
    from relsearch.encoding import RelationEncoder

    return RelationEncoder(model, dtype=dtype, batch_size=batch_size)


def _check_out_dir(out: Path, state: DirState, overwrite: bool) -> None:
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
            "replace it, or choose another --out"
        )


def _worker_spec(encoder: Any, enc: Any, dtype: str, batch_size: int) -> EncoderSpec:
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
        described["model"], dtype=described.get("dtype", dtype), batch_size=batch_size
    )


def _check_engine(engine: str, ray_address: str | None, workers: int | None) -> None:
    if engine not in ENGINES:
        raise RelsearchError(f"unknown engine {engine!r}; available: {', '.join(ENGINES)}")
    if engine != "ray" and (ray_address is not None or workers is not None):
        raise RelsearchError("--ray-address and --workers apply to --engine ray only")
    if workers is not None and workers < 1:
        raise RelsearchError(f"--workers must be at least 1, got {workers}")
    if engine == "ray":
        from index_builder.ray_engine import require_ray

        require_ray()


def _estimate(
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


def _store_word_vectors(out: Path, enc: Any, table: pa.Table, progress: bool) -> dict[str, Any] | None:
    """Write the word vectors of a hybrid encoder for every indexed word (see
    :mod:`relsearch.index.word_vectors_file`); None for encoders without a word part."""
    if not getattr(enc, "word_weight", 0) or not hasattr(enc, "word_vectors"):
        return None
    from relsearch.index.word_vectors_file import write_word_vectors

    both = pa.chunked_array([*table.column("head").chunks, *table.column("tail").chunks])
    words = sorted(pc.unique(both).to_pylist())
    _say(f"storing the word vectors of {len(words):,} words", progress)
    vectors = enc.word_vectors(words)  # cached during encoding; computed here after a resume
    write_word_vectors(out / WORD_VECTORS_FILE, words, vectors)
    return {"file": WORD_VECTORS_FILE, "words": len(words), "dim": int(vectors.shape[1])}


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if platform.system() == "Darwin" else peak * 1024)


def build_index(
    out_dir: str | os.PathLike[str],
    *,
    vocab: str | os.PathLike[str] | Sequence[str] | None = None,
    pairs: str | os.PathLike[str] | Iterable[PairLike] | None = None,
    model: str | os.PathLike[str] | None = None,
    encoder: Any = None,
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
) -> BuildReport:
    """Build (or resume, or estimate) a relsearch index in ``out_dir``.

    Exactly one of ``vocab`` (a file, or a list of words: candidate pairs are each word's ``k``
    nearest words in both directions, or every ordered pair with ``all_pairs``) and ``pairs``
    (a TSV/CSV/Parquet file, or a list of pairs; extra columns are kept as metadata).
    ``encoder`` (anything with ``encode``, ``encode_words``, ``dim``, ``describe()`` and
    ``fingerprint``) or an ``EncoderSpec`` replaces loading ``model``. ``word_model`` picks candidate
    pairs (see :mod:`index_builder.word_model`; default: a delta model's base model). ``engine="ray"`` encodes
    on a Ray Data actor pool of ``workers`` actors (default: one per CPU), on a local Ray
    instance or the cluster at ``ray_address``; it needs ``model`` or an ``EncoderSpec``, and
    gives the same files as ``"local"``. Raises ``RelsearchError`` on bad input and
    never deletes an existing index unless ``overwrite``; ``KeyboardInterrupt`` leaves a
    resumable build. ``dry_run`` writes nothing and returns estimates.
    """
    t_start = time.perf_counter()
    _check_engine(engine, ray_address, workers)
    for name, value in (("shard_size", shard_size), ("batch_size", batch_size)):
        if value < 1:
            raise RelsearchError(f"{name.replace('_', '-')} must be at least 1, got {value}")
    budget = parse_memory(memory_budget)
    out = Path(out_dir)
    inp = _read_input(vocab, pairs, k, all_pairs, resolve_word_model(word_model, model, encoder))
    state = inspect_out_dir(out)
    if not dry_run:
        _check_out_dir(out, state, overwrite)
    durations = {"read_input": time.perf_counter() - t_start}

    t0 = time.perf_counter()
    enc = _make_encoder(model, encoder, dtype, batch_size)
    describe = enc.describe()
    spec = _worker_spec(encoder, enc, dtype, batch_size) if engine == "ray" else None
    durations["load_model"] = time.perf_counter() - t0

    resume = state is DirState.PARTIAL and not overwrite and not dry_run
    stamp_ok = False  # pairs.parquet of this very build exists: reuse it
    if resume:
        why = Checkpoint.read(out).mismatch(Checkpoint(describe, inp.info, 0, shard_size, enc.dim))
        if why:
            raise IndexFormatError(
                f"{str(out)!r} holds a partial build that this run cannot resume: {why}. Pass --overwrite "
                "to discard it and start over."
            )
        stamp_ok = stamp_matches(out / PAIRS_FILE, inp.info["fingerprint"], describe.get("fingerprint"))
    t0 = time.perf_counter()
    if stamp_ok:
        table = read_pairs(out / PAIRS_FILE)
    else:
        _say(f"input: {inp.info['source']} ({inp.info['kind']})", progress)
        table = pairs_table(_candidate_table(inp, enc, k, batch_size))
    durations["candidates"] = time.perf_counter() - t0
    n = table.num_rows
    columns = [table.column(name).cast(pa.large_string()) for name in ("head", "tail")]
    words = pc.count_distinct(pa.chunked_array(columns[0].chunks + columns[1].chunks)).as_py()
    shards = shard_count(n, shard_size)
    plan = plan_index(n, enc.dim, budget, index_key)
    report = BuildReport(str(out), dry_run, n, words, shards, inp.info, describe, plan.to_dict())
    _say(f"{n:,} pairs over {words:,} words; index {plan.factory} ({plan.reason})", progress and not dry_run)

    if dry_run:
        report.estimates = {**_estimate(table, enc, plan, shard_size, batch_size), "out_dir": state.value}
        report.durations = {name: round(v, 2) for name, v in durations.items()}
        return report

    if not resume:
        if state is not DirState.EMPTY:
            remove_index(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / EMBEDDINGS_DIR).mkdir(exist_ok=True)
        Checkpoint(describe, inp.info, n, shard_size, enc.dim).write(out)
    if not stamp_ok:
        write_pairs_parquet(table, out / PAIRS_FILE, pairs_stamp(n, inp.info, describe.get("fingerprint")))

    remove_temp_files(out)
    done = complete_shards(out, n, shard_size, enc.dim)
    if done:
        _say(f"resuming: {len(done)} of {shards} shards already encoded", progress)
    t0 = time.perf_counter()
    pairs_done = sum(stop - start for start, stop in (shard_range(s, n, shard_size) for s in done))
    with shard_progress(
        pairs=n, pairs_done=pairs_done, shards=shards, shards_done=len(done), enabled=progress
    ) as bar:
        if spec is not None:
            from index_builder.ray_engine import ShardJob, encode_shards_with_ray

            job = ShardJob(spec, enc.fingerprint, str(out.resolve()), n, shard_size, batch_size, enc.dim)
            run = encode_shards_with_ray(
                out, table, job, done=done, progress=bar, address=ray_address, workers=workers
            )
            encoded, report.ray = run.encoded, run.info
        else:
            heads, tails = table.column("head").to_pylist(), table.column("tail").to_pylist()
            encoded = encode_missing_shards(
                out, enc, heads, tails, shard_size=shard_size, batch_size=batch_size, done=done, progress=bar
            )
    durations["encode"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    word_info = _store_word_vectors(out, enc, table, progress)
    durations["word_vectors"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    _say(f"building the FAISS index ({plan.factory})", progress)
    result = build_faiss_index(ShardReader(out, n, shard_size, enc.dim), plan)
    write_index(result.index, out / FAISS_FILE)
    durations["faiss"] = time.perf_counter() - t0
    durations["total"] = time.perf_counter() - t_start
    faiss_info = result.manifest_block(plan.reason, (out / FAISS_FILE).stat().st_size)
    rounded = {name: round(v, 2) for name, v in durations.items()}
    build = {
        "settings": {
            "k": inp.info.get("k"),
            "all_pairs": all_pairs,
            "shard_size": shard_size,
            "batch_size": batch_size,
            "memory_budget_bytes": budget,
            "index_key": index_key,
            "engine": engine,
        },
        "durations_s": rounded,
        "shards_encoded": encoded,
        "shards_reused": len(done),
        "peak_rss_bytes": _peak_rss(),
        "host": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    if report.ray is not None:
        build["ray"] = report.ray
    counts = {"pairs": n, "words": words, "shards": shards}
    manifest = build_manifest(
        encoder=describe,
        faiss_info=faiss_info,
        counts=counts,
        shard_size=shard_size,
        input_info=inp.info,
        build=build,
    )
    if word_info is not None:
        manifest["word_vectors"] = word_info
    write_manifest(out, manifest)
    Checkpoint.path(out).unlink(missing_ok=True)
    _say(f"index written to {out / MANIFEST_FILE}", progress)
    report.shards_encoded, report.shards_reused = encoded, len(done)
    report.faiss, report.durations = faiss_info, rounded
    return report
