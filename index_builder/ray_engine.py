"""``--engine ray``: encode the missing shards with Ray Data, one encoder per actor.

The driver (the ``build_index`` process) keeps the rest of a build: it reads the input, writes
the checkpoint and ``pairs.parquet``, and afterwards builds FAISS from the shards. Here the
pairs of every shard still to encode become one block of a Ray Dataset (``from_arrow``), and
``map_batches`` on a pool of ``workers`` actors runs ``encode_shard`` on each block. Every
actor builds its own encoder from an ``EncoderSpec`` (no model is shipped) and checks its
fingerprint against the driver's; each shard is written, atomically and in the local
engine's format, by the actor that encoded it, so ``--out`` should be on storage that every
node sees (checked after the run; otherwise the shards are gathered by hand and the build
resumed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from index_builder.encoder_spec import EncoderSpec
from index_builder.shards import encode_shard
from relsearch import errors
from relsearch.errors import IndexFormatError, RelsearchError
from relsearch.storage.checkpoint import Checkpoint
from relsearch.storage.checksums import FileRecord
from relsearch.storage.layout import EMBEDDINGS_DIR, shard_name, shard_path
from relsearch.storage.shard_files import shard_header_ok, shard_range

INSTALL_HINT = "pip install 'relsearch[ray]'"
#: CPUs (and torch threads) per actor: one single-threaded encoder per core.
CPUS_PER_WORKER = 1
#: How long all actors may take to start (import torch, load the model) before the build fails.
ACTOR_START_TIMEOUT_S = 900


def require_ray() -> None:
    """Raise ``RelsearchError`` with the install command if Ray Data cannot be imported."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise RelsearchError(
            f"--engine ray needs Ray Data, which is not installed ({exc}); install it with: {INSTALL_HINT}"
        ) from None


@dataclass(frozen=True)
class ShardJob:
    """What every actor needs to encode and write any shard: small and picklable, no model."""

    spec: EncoderSpec
    fingerprint: str
    out_dir: str
    pairs: int
    shard_size: int
    batch_size: int
    dim: int


class ShardEncoder:
    """A Ray Data actor: holds one encoder; each call encodes the block of one shard and writes it."""

    def __init__(self, job: ShardJob) -> None:
        self.job = job
        self.encoder = self.job.spec.create()
        if self.encoder.fingerprint != self.job.fingerprint:
            raise RelsearchError(
                f"the encoder built on Ray node {socket.gethostname()} from {self.job.spec.factory} "
                f"{self.job.spec.kwargs} has fingerprint {str(self.encoder.fingerprint)[:12]}, not the "
                f"driver's {self.job.fingerprint[:12]}: every node must have the same model files"
            )
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, batch: pa.Table) -> dict[str, list[Any]]:
        job = self.job
        ids = batch.column("id").to_pylist()
        heads, tails = batch.column("head").to_pylist(), batch.column("tail").to_pylist()
        done: dict[str, list[Any]] = {
            "shard": [],
            "rows": [],
            "worker": [],
            "seconds": [],
            "bytes": [],
            "xxh3_128": [],
        }
        begin = 0
        while begin < len(ids):
            shard = ids[begin] // job.shard_size
            start, stop = shard_range(shard, job.pairs, job.shard_size)
            end = begin + (stop - start)
            if ids[begin] != start or ids[begin:end] != list(range(start, stop)):
                raise RelsearchError(f"Ray delivered part of shard {shard} (from id {ids[begin]}); a bug")
            t0 = time.perf_counter()
            path = shard_path(Path(job.out_dir), shard)
            path.parent.mkdir(parents=True, exist_ok=True)  # exists on shared storage; not on a node's disk
            record = encode_shard(
                self.encoder, heads[begin:end], tails[begin:end], path, batch_size=job.batch_size
            )
            done["shard"].append(shard)
            done["bytes"].append(record.bytes)
            done["xxh3_128"].append(record.xxh3_128)
            done["rows"].append(stop - start)
            done["worker"].append(self.worker)
            done["seconds"].append(round(time.perf_counter() - t0, 3))
            begin = end
        return done


@dataclass
class RayRun:
    """What the Ray run did: shards encoded here, and details for the manifest."""

    encoded: int
    info: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def _data_context() -> Iterator[None]:
    """Ray Data settings for the build: no progress bars or console logs (its log files stay); all
    actors started (or one failed, or ``ACTOR_START_TIMEOUT_S`` passed) before any shard is
    handed out, so that a bad model fails fast and every worker gets work."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    wanted = {"enable_progress_bars": False, "wait_for_min_actors_s": ACTOR_START_TIMEOUT_S}
    saved = {name: getattr(ctx, name) for name in wanted if hasattr(ctx, name)}  # older Rays lack some
    for name in saved:
        setattr(ctx, name, wanted[name])
    consoles = [
        h
        for h in logging.getLogger("ray.data").handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]
    levels = [h.level for h in consoles]
    for handler in consoles:
        handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(ctx, name, value)
        for handler, level in zip(consoles, levels, strict=True):
            handler.setLevel(level)


def _connect(address: str | None, workers: int | None) -> tuple[bool, int, str]:
    """Start or join Ray; return (started here, workers, address description)."""
    import ray

    if ray.is_initialized():
        started, where = False, "already initialised in this process"
    elif address:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        started, where = True, address
    else:
        cpus = max(os.cpu_count() or 1, (workers or 0) * CPUS_PER_WORKER)
        # Local workers import what this process imports (a source checkout, a test's encoder).
        path = os.pathsep.join(p for p in (os.path.abspath(e) for e in sys.path if e) if os.path.isdir(p))
        ray.init(
            address="local",
            num_cpus=cpus,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,
            runtime_env={"env_vars": {"PYTHONPATH": path}},
        )
        started, where = True, f"local ({cpus} CPUs)"
    total = int(ray.cluster_resources().get("CPU", 0))
    count = workers or max(1, total // CPUS_PER_WORKER)
    if count * CPUS_PER_WORKER > total:
        if started:
            ray.shutdown()
        raise RelsearchError(
            f"--workers {count} needs {count * CPUS_PER_WORKER} CPUs but the Ray cluster ({where}) has "
            f"{total}; use --workers {max(1, total // CPUS_PER_WORKER)} or fewer, or add nodes"
        )
    return started, count, where


def _worker_error(exc: BaseException) -> RelsearchError | None:
    """The ``RelsearchError`` a Ray worker raised, as one line, or None if it was something else.

    Ray wraps a UDF's exception (found in the chain) and only quotes an actor constructor's one
    (found in the text).
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, RelsearchError) and item is not exc:
            return type(item)(f"a Ray worker failed: {item}")
        todo += [item.__cause__, item.__context__, getattr(item, "cause", None)]
    quoted = re.findall(r"^relsearch\.errors\.(\w+): (.+)$", str(exc), flags=re.MULTILINE)
    if quoted:
        name, message = quoted[-1]
        kind = getattr(errors, name, None)
        if isinstance(kind, type) and issubclass(kind, RelsearchError):
            return kind(f"a Ray worker failed: {message}")
    return None


def _check_visible(out_dir: Path, shards: Sequence[int], pairs: int, shard_size: int, dim: int) -> None:
    missing = []
    for k in shards:
        start, stop = shard_range(k, pairs, shard_size)
        if not shard_header_ok(shard_path(out_dir, k), stop - start, dim):
            missing.append(k)
    if missing:
        raise IndexFormatError(
            f"Ray workers reported {len(shards)} shard(s) written, but {len(missing)} (first: "
            f"{shard_path(out_dir, missing[0]).name}) are not in {out_dir / EMBEDDINGS_DIR} as seen here: "
            "--out should be on storage that every Ray node shares. If it is on each node's own disk, "
            f"copy every node's {EMBEDDINGS_DIR}/part-*.npy into this one and run the same command again: "
            "complete shards are reused (see docs/ray.md)"
        )


def encode_shards_with_ray(
    out_dir: Path,
    table: pa.Table,
    job: ShardJob,
    *,
    checkpoint: Checkpoint,
    todo: Sequence[int],
    progress: Any,
    address: str | None = None,
    workers: int | None = None,
    after_shard: Callable[[int], None] | None = None,
) -> RayRun:
    """Encode the shards ``todo`` on a Ray actor pool, recording each in ``checkpoint`` as its
    result comes back (then ``after_shard(k)``); return what was encoded.

    ``table`` holds ``id``, ``head`` and ``tail`` of the pairs from its first id on. Without
    ``address`` a local Ray instance sized to this machine is started (and shut down after);
    with one, the cluster at that address is joined; an already initialised Ray is reused.
    """
    require_ray()
    import ray
    import ray.data

    missing = list(todo)
    if not missing:
        return RayRun(0, {"address": address or "local", "workers": 0})
    columns = table.select(["id", "head", "tail"])
    offset = int(columns.column("id")[0].as_py()) if columns.num_rows else 0
    blocks = []
    for k in missing:
        start, stop = shard_range(k, job.pairs, job.shard_size)
        blocks.append(columns.slice(start - offset, stop - start))

    with _data_context():
        started, count, where = _connect(address, workers)
        by_worker: Counter[str] = Counter()
        encoded, pairs, busy = 0, 0, 0.0
        try:
            threads = str(CPUS_PER_WORKER)
            results = ray.data.from_arrow(blocks).map_batches(
                ShardEncoder,
                fn_constructor_kwargs={"job": job},
                batch_size=None,
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=count, max_tasks_in_flight_per_actor=1),
                num_cpus=CPUS_PER_WORKER,
                runtime_env={
                    "env_vars": {
                        "OMP_NUM_THREADS": threads,
                        "MKL_NUM_THREADS": threads,
                        "TOKENIZERS_PARALLELISM": "false",
                    }
                },
            )
            rows = iter(results.iter_rows())
            try:
                for row in rows:
                    shard = int(row["shard"])
                    record = FileRecord(int(row["bytes"]), str(row["xxh3_128"]))
                    checkpoint.record(out_dir, shard_name(shard), record)
                    progress.advance(int(row["rows"]))
                    progress.shard_done()
                    by_worker[str(row["worker"])] += 1
                    encoded, pairs, busy = encoded + 1, pairs + int(row["rows"]), busy + float(row["seconds"])
                    if after_shard is not None:
                        after_shard(shard)
            finally:
                close = getattr(rows, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            error = _worker_error(exc)
            if error is not None:
                raise error from None
            raise
        finally:
            if started:
                ray.shutdown()
    _check_visible(out_dir, missing, job.pairs, job.shard_size, job.dim)
    info = {
        "address": where,
        "workers": count,
        "cpus_per_worker": CPUS_PER_WORKER,
        "nodes": len({w.rsplit(":", 1)[0] for w in by_worker}),
        "shards_by_worker": dict(sorted(by_worker.items())),
        "worker_seconds": round(busy, 2),  # time actors spent in encode_shard (no start-up)
        "pairs_per_worker_second": round(pairs / busy, 1) if busy else None,
    }
    return RayRun(encoded, info)
