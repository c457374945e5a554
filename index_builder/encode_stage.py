"""The *encode* stage, shared by build and add: encode the shards that are not yet on disk.

Each finished shard is recorded (size, checksum) in the checkpoint before the next begins, on
the local engine here or, with ``--engine ray``, as each actor's result comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from index_builder.encoder_spec import EncoderSpec
from index_builder.progress import shard_progress
from index_builder.shards import PairEncoder, ShardCallback, encode_missing_shards
from relsearch.storage.checkpoint import Checkpoint
from relsearch.storage.shard_files import shard_count, shard_range


@dataclass
class EncodeRun:
    """What the stage did: shards encoded now, kept from before, and the Ray details."""

    encoded: int
    reused: int
    ray: dict[str, Any] | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Engine:
    """Where encoding runs: locally, or on Ray (``spec`` set) at ``address`` with ``workers``."""

    spec: EncoderSpec | None = None
    address: str | None = None
    workers: int | None = None


def encode_stage(
    out: Path,
    table: pa.Table,
    encoder: PairEncoder,
    checkpoint: Checkpoint,
    *,
    done: list[int],
    batch_size: int,
    engine: Engine,
    progress: bool,
    first_shard: int = 0,
    generation: int = 0,
    after_shard: ShardCallback | None = None,
) -> EncodeRun:
    """Encode every shard from ``first_shard`` on that is not in ``done``.

    ``table`` holds ``id``, ``head`` and ``tail`` of the pairs from shard ``first_shard`` on.
    """
    n, size = checkpoint.pairs, checkpoint.shard_size
    shards = shard_count(n, size)
    todo = [k for k in range(first_shard, shards) if k not in set(done)]
    pairs_total = n - first_shard * size
    pairs_done = pairs_total - sum(stop - start for start, stop in (shard_range(k, n, size) for k in todo))
    run = EncodeRun(0, len(done))
    with shard_progress(
        pairs=pairs_total,
        pairs_done=pairs_done,
        shards=shards - first_shard,
        shards_done=shards - first_shard - len(todo),
        enabled=progress,
    ) as bar:
        if engine.spec is not None and todo:
            from index_builder.ray_engine import ShardJob, encode_shards_with_ray

            job = ShardJob(
                engine.spec, encoder.fingerprint, str(out.resolve()), n, size, batch_size, encoder.dim
            )
            ray_run = encode_shards_with_ray(
                out,
                table,
                job,
                checkpoint=checkpoint,
                todo=todo,
                progress=bar,
                address=engine.address,
                workers=engine.workers,
                after_shard=after_shard,
            )
            run.encoded, run.ray = ray_run.encoded, ray_run.info
        elif engine.spec is not None:
            run.ray = {"address": engine.address or "local", "workers": 0}
        else:
            run.encoded = encode_missing_shards(
                out,
                encoder,
                table.column("head").to_pylist(),
                table.column("tail").to_pylist(),
                checkpoint=checkpoint,
                batch_size=batch_size,
                done=done,
                progress=bar,
                first_shard=first_shard,
                generation=generation,
                after_shard=after_shard,
            )
    return run
