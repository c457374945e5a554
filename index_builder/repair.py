"""``repair_index``: rewrite the damaged files of an index that can be made again from the rest.

- a shard: its pairs (from ``pairs.parquet``) are encoded again with the index's encoder;
- ``index.faiss``: rebuilt from the shards (same factory string; recall measured again);
- ``word_vectors.parquet``: computed again with the index's (hybrid) encoder;
- ``pairs.parquet`` and the manifest hold what cannot be recomputed: restore or rebuild.

Runs under the index's write lock; the manifest (with the new files' records) is written last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index_builder.defaults import DEFAULT_BATCH_SIZE
from index_builder.faiss_build import build_faiss_index
from index_builder.index_choice import parse_memory, plan_index
from index_builder.shards import PairEncoder, encode_shard
from relsearch.errors import RelsearchError
from relsearch.index.stored_vectors import StoredVectors
from relsearch.index.verify import VerifyReport, check_index, expected_files, record_outcome
from relsearch.storage.checksums import FileRecord, file_record
from relsearch.storage.faiss_file import write_faiss_index
from relsearch.storage.layout import MANIFEST_FILE
from relsearch.storage.layout import shard_number as shard_of
from relsearch.storage.lock import IndexLock
from relsearch.storage.manifest import IndexPaths, file_records, read_manifest_only, write_manifest
from relsearch.storage.pairs_parquet import read_pairs
from relsearch.storage.shard_files import shard_range
from relsearch.storage.word_vectors_file import write_word_vectors


@dataclass
class RepairReport:
    """What was damaged, what was rewritten, and the check afterwards."""

    before: VerifyReport
    after: VerifyReport
    repaired: list[str] = field(default_factory=list)


def _encoder(
    manifest: dict[str, Any], index_dir: Path, encoder: PairEncoder | None, model: str | None
) -> Any:
    if encoder is not None:
        if encoder.fingerprint != manifest["encoder"].get("fingerprint"):
            raise RelsearchError("the encoder given for the repair is not the index's (another fingerprint)")
        return encoder
    from relsearch.index.index_encoder import load_index_encoder

    return load_index_encoder(manifest["encoder"], index_dir, model)


def repair_index(
    index_dir: str | Path, *, encoder: PairEncoder | None = None, model: str | None = None
) -> RepairReport:
    """Check the index, rewrite what can be recomputed, check again; raise ``RelsearchError`` if a
    file that cannot be recomputed (``pairs.parquet``, the manifest) is damaged."""
    index_dir = Path(index_dir)
    read_manifest_only(index_dir)
    with IndexLock(index_dir, "relsearch verify --repair"):
        before = check_index(index_dir)
        damaged = [p.file for p in before.problems]
        if not damaged:
            record_outcome(index_dir, before)
            return RepairReport(before, before)
        manifest = read_manifest_only(index_dir)
        paths = IndexPaths.from_manifest(manifest)
        lost = [name for name in damaged if name in (paths.pairs, MANIFEST_FILE)]
        if lost:
            raise RelsearchError(
                f"{', '.join(lost)} in {index_dir} is damaged and cannot be recomputed: restore it from a "
                "backup or rebuild the index with `relsearch build-index ... --overwrite`"
            )
        records = file_records(manifest) or {  # an index without checksums gets them now
            name: file_record(index_dir / name) for name in expected_files(manifest) if name not in damaged
        }
        n, dim, size = (
            int(manifest["counts"]["pairs"]),
            int(manifest["encoder"]["dim"]),
            int(manifest["shard_size"]),
        )
        settings = (manifest.get("build") or {}).get("settings") or {}
        batch_size = int(settings.get("batch_size") or DEFAULT_BATCH_SIZE)
        shards = [shard_of(name) for name in damaged if shard_of(name) is not None]
        need_encoder = bool(shards) or paths.word_vectors in damaged
        enc = _encoder(manifest, index_dir, encoder, model) if need_encoder else None
        new: dict[str, FileRecord] = {}
        if need_encoder:
            table = read_pairs(index_dir / paths.pairs, records.get(paths.pairs))
            heads, tails = table.column("head").to_pylist(), table.column("tail").to_pylist()
        for k in shards:
            assert k is not None
            start, stop = shard_range(k, n, size)
            name = paths.shards[k]
            new[name] = encode_shard(
                enc, heads[start:stop], tails[start:stop], index_dir / name, batch_size=batch_size
            )
        if paths.word_vectors in damaged:
            words = sorted(set(heads) | set(tails))
            new[paths.word_vectors] = write_word_vectors(
                index_dir / paths.word_vectors, words, enc.word_vectors(words)
            )
        records.update(new)
        if paths.faiss in damaged:
            factory = manifest["faiss"]["factory"]
            budget = parse_memory(settings.get("memory_budget_bytes"))
            plan = plan_index(n, dim, budget, factory)
            vectors = StoredVectors(
                index_dir, n=n, dim=dim, shard_size=size, records=records, names=paths.shards
            )
            result = build_faiss_index(vectors, plan)
            records[paths.faiss] = write_faiss_index(result.index, index_dir / paths.faiss)
            manifest["faiss"] = result.manifest_block(
                manifest["faiss"].get("choice", plan.reason), records[paths.faiss].bytes
            )
        manifest["files"] = {name: record.to_dict() for name, record in sorted(records.items())}
        write_manifest(index_dir, manifest)
        after = check_index(index_dir)
        record_outcome(index_dir, after)
        return RepairReport(before, after, damaged)
