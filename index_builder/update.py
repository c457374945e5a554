"""``add_pairs`` / ``remove_pairs``: change an index without re-encoding the pairs it holds.

An update is a new *generation* of the index: the files it changes are written under new
names (``pairs.gG.parquet``, ``index.gG.faiss``, ``embeddings/part-NNNNN.gG.npy`` for the
shards it rewrites), each recorded in the checkpoint as it is finished, and the new manifest
is written last. Until then the directory is the old index, whole and readable; the same
command run again after a crash resumes from the recorded files (or finds nothing left to
do). Files of older generations are deleted once the new manifest is in place.

``add`` encodes only the pairs the index lacks (the shared *encode* stage), copies the rows of
a partial last shard, and adds the new vectors to the FAISS index, or retrains it when the
builder would now choose another index type. ``remove`` re-slices the stored vectors after
the first removed pair (ids stay row numbers) and refills the trained FAISS index.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from index_builder.build import count_words, say
from index_builder.encode_stage import Engine, encode_stage
from index_builder.faiss_build import build_faiss_index
from index_builder.index_choice import parse_memory, plan_index
from index_builder.inputs import candidate_table, read_input
from index_builder.pairs_file import PairsInput, pairs_from_list, read_pairs_file
from index_builder.shards import PairEncoder, ShardCallback, kept_shards
from index_builder.stored_encoder import StoredFirst
from relsearch.errors import DataFormatError, RelsearchError
from relsearch.index.pair_table import KEY_COLUMNS, PairTable
from relsearch.index.stored_vectors import StoredVectors
from relsearch.pairs import PairLike
from relsearch.storage.atomic import TEMP_PATTERN, remove_temp_files
from relsearch.storage.checkpoint import Checkpoint
from relsearch.storage.checksums import FileRecord, file_record
from relsearch.storage.faiss_file import read_faiss_index, write_faiss_index
from relsearch.storage.layout import (
    EMBEDDINGS_DIR,
    FAISS_FILE,
    MANIFEST_FILE,
    PAIRS_FILE,
    WORD_VECTORS_FILE,
    generation_name,
    is_index_file,
    shard_name,
)
from relsearch.storage.lock import IndexLock
from relsearch.storage.manifest import IndexPaths, file_records, now_utc, read_manifest, write_manifest
from relsearch.storage.pairs_parquet import pairs_stamp, pairs_table, read_pairs, write_pairs_parquet
from relsearch.storage.shard_files import shard_count
from relsearch.storage.verify_record import manifest_digest
from relsearch.storage.word_vectors_file import read_word_vectors, write_word_vectors

log = logging.getLogger("relsearch")


@dataclass
class UpdateReport:
    """What an ``add`` or ``remove`` did."""

    index_dir: str
    kind: str
    requested: int  # distinct pairs given
    changed: int  # pairs added or removed
    skipped: int  # pairs already present (add) or not in the index (remove)
    pairs: int  # pairs in the index now
    shards_written: int = 0
    shards_reused: int = 0  # written by an interrupted run of the same command
    pairs_encoded: int = 0
    faiss: str = "unchanged"
    generation: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Base:
    """The index as it is: manifest, file names and records, pairs and stored vectors."""

    out: Path
    manifest: dict[str, Any]
    paths: IndexPaths
    records: dict[str, FileRecord]
    table: pa.Table
    pairs: PairTable
    stored: StoredVectors

    @property
    def n(self) -> int:
        return self.table.num_rows

    @property
    def shard_size(self) -> int:
        return int(self.manifest["shard_size"])

    @property
    def generation(self) -> int:
        return int(self.manifest.get("generation") or 0)


def _read_base(out: Path) -> _Base:
    manifest = read_manifest(out)
    paths = IndexPaths.from_manifest(manifest)
    records = file_records(manifest)
    table = read_pairs(out / paths.pairs, records.get(paths.pairs))
    n, dim = int(manifest["counts"]["pairs"]), int(manifest["encoder"]["dim"])
    stored = StoredVectors(
        out, n=n, dim=dim, shard_size=int(manifest["shard_size"]), records=records, names=paths.shards
    )
    return _Base(out, manifest, paths, records, table, PairTable(table, out / paths.pairs), stored)


def collect_garbage(out: Path, manifest: dict[str, Any]) -> None:
    """Delete relsearch's own files that the current manifest does not name (older generations,
    an abandoned update) and temp files; never anything else."""
    keep = {*IndexPaths.from_manifest(manifest).names(), MANIFEST_FILE}
    for folder in (out, out / EMBEDDINGS_DIR):
        for path in folder.glob("*"):
            name = str(path.relative_to(out))
            if path.is_file() and is_index_file(name) and name not in keep:
                path.unlink()
        for tmp in folder.glob(TEMP_PATTERN):
            tmp.unlink(missing_ok=True)


def _checkpoint(base: _Base, kind: str, key: str, pairs: int) -> Checkpoint:
    """This update's checkpoint: the one an interrupted run of the same command left, or a new one."""
    digest = manifest_digest(base.out)
    fingerprint = hashlib.sha256(f"{kind}|{key}|{digest}".encode()).hexdigest()[:32]
    info = {
        "kind": kind,
        "fingerprint": fingerprint,
        "base_manifest": digest,
        "generation": base.generation + 1,
    }
    encoder = base.manifest["encoder"]
    fresh = Checkpoint(encoder, info, pairs, base.shard_size, int(encoder["dim"]))
    if Checkpoint.path(base.out).exists():
        try:
            old = Checkpoint.read(base.out)
            if old.mismatch(fresh) is None and old.pairs == pairs:
                return old
        except RelsearchError:
            pass
        log.info(
            "discarding an unfinished update of %s (another command, or the index changed since)", base.out
        )
        Checkpoint.path(base.out).unlink()
    collect_garbage(base.out, base.manifest)
    fresh.write(base.out)
    return fresh


def _new_rows(base: _Base, given: PairsInput) -> tuple[pa.Table, int]:
    """The given pairs the index lacks, in the index's column layout; and how many it has already."""
    metadata = [c for c in base.table.column_names if c not in KEY_COLUMNS]
    extra = [c for c in given.metadata_columns if c not in metadata]
    if extra:
        raise DataFormatError(
            f"{given.source} has column(s) {', '.join(extra)} that the index lacks (its metadata columns: "
            f"{', '.join(metadata) or 'none'}); drop them or rebuild the index with them"
        )
    heads, tails = given.table.column("head").to_pylist(), given.table.column("tail").to_pylist()
    keep = [i for i, pair in enumerate(zip(heads, tails, strict=True)) if base.pairs.pair_id(pair) is None]
    rows = given.table.take(pa.array(keep, type=pa.int64()))
    schema = base.table.schema.remove(base.table.schema.get_field_index("id"))
    columns = {}
    for field in schema:
        if field.name in rows.column_names:
            try:
                columns[field.name] = rows.column(field.name).cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DataFormatError(
                    f"column {field.name!r} of {given.source} cannot be stored as the index's "
                    f"{field.type}: {exc}"
                ) from None
        else:
            columns[field.name] = pa.nulls(len(keep), field.type)
    return pa.table(columns, schema=schema), len(heads) - len(keep)


def _index_encoder(base: _Base, encoder: PairEncoder | None, model: str | None) -> PairEncoder:
    expected = base.manifest["encoder"].get("fingerprint")
    if encoder is not None:
        if encoder.fingerprint != expected:
            raise RelsearchError(
                f"the encoder given has fingerprint {str(encoder.fingerprint)[:12]}, not the index's "
                f"{str(expected)[:12]}: its vectors would not be comparable"
            )
        return encoder
    from relsearch.index.index_encoder import load_index_encoder

    enc = load_index_encoder(base.manifest["encoder"], base.out, model)
    if base.paths.word_vectors and enc.word_weight:  # seed with the stored word vectors
        name = base.paths.word_vectors
        words, vectors = read_word_vectors(base.out / name, enc.word_dim, base.records.get(name))
        enc.add_word_vectors(words, vectors)
    return enc  # type: ignore[return-value]


def _given_pairs(
    base: _Base,
    pairs: str | os.PathLike[str] | Iterable[PairLike] | None,
    vocab: str | os.PathLike[str] | Sequence[str] | None,
    k: int | None,
    encoder: Callable[[], PairEncoder],
    batch_size: int,
) -> tuple[PairsInput, str]:
    """The pairs to add (a pairs file or list, or a vocabulary's candidate pairs) and a key for them."""
    if (pairs is None) == (vocab is None):
        raise RelsearchError("give exactly one of a vocabulary (VOCAB) and a pairs file (--pairs)")
    if pairs is not None:
        given = read_pairs_file(pairs) if isinstance(pairs, str | os.PathLike) else pairs_from_list(pairs)
        return given, given.fingerprint
    built = base.manifest.get("input") or {}
    k = k or int(built.get("k") or 10)
    word_model = built.get("word_model") or "relation-model"
    inp = read_input(vocab, None, k, False, word_model)
    table = candidate_table(inp, encoder(), k, batch_size)
    return PairsInput(table, 0, str(inp.info["source"]), inp.info["fingerprint"]), inp.info["fingerprint"]


def _faiss_for(
    base: _Base, stored: StoredVectors, n: int, added_from: int | None, say_: Callable[[str], None]
) -> tuple[Any, dict[str, Any], str]:
    """The FAISS index of the new generation: the old one plus the vectors from ``added_from`` on,
    the old one emptied and refilled (``added_from`` None), or retrained if the type changes."""
    settings = (base.manifest.get("build") or {}).get("settings") or {}
    plan = plan_index(
        n, stored.dim, parse_memory(settings.get("memory_budget_bytes")), settings.get("index_key")
    )
    block = dict(base.manifest["faiss"])
    if plan.factory != block.get("factory"):
        say_(f"index type changes from {block.get('factory')} to {plan.factory} at {n:,} pairs: retraining")
        result = build_faiss_index(stored, plan)
        return (
            result.index,
            result.manifest_block(plan.reason, 0),
            f"retrained ({block.get('factory')} -> {plan.factory})",
        )
    index = read_faiss_index(base.out / base.paths.faiss, base.records.get(base.paths.faiss))
    if added_from is None:
        index.reset()  # keeps what was trained (IVF centroids, codebooks)
        for vectors in stored.blocks():
            index.add(vectors)
        action = "refilled"
    else:
        for start in range(added_from, n, 65536):
            index.add(stored.get(np.arange(start, min(n, start + 65536))))
        action = f"added {n - added_from:,} vectors"
    block["recall_note"] = "recall_at_10 was measured when the index was built"
    return index, block, action


def _commit(
    base: _Base,
    checkpoint: Checkpoint,
    table: pa.Table,
    names: list[str],
    index: Any,
    faiss_block: dict[str, Any],
    word_vectors: tuple[list[str], np.ndarray] | None,
    update: dict[str, Any],
) -> int:
    """Write FAISS and word vectors of the new generation, then the manifest; clean up. Returns it."""
    g = base.generation + 1
    files = {
        name: checkpoint.files.get(name) or base.records.get(name) or file_record(base.out / name)
        for name in names
    }
    pairs_name = generation_name(PAIRS_FILE, g)
    files[pairs_name] = checkpoint.files[pairs_name]
    faiss_name = generation_name(FAISS_FILE, g)
    files[faiss_name] = write_faiss_index(index, base.out / faiss_name)
    faiss_block["index_bytes"] = files[faiss_name].bytes
    manifest = dict(base.manifest)
    words_name = None
    if word_vectors is not None:
        words_name = generation_name(WORD_VECTORS_FILE, g)
        files[words_name] = write_word_vectors(base.out / words_name, *word_vectors)
        manifest["word_vectors"] = {
            "file": words_name,
            "words": len(word_vectors[0]),
            "dim": int(word_vectors[1].shape[1]),
        }
    n = table.num_rows
    paths = IndexPaths(pairs_name, faiss_name, words_name, tuple(names))
    manifest.update(
        {
            "counts": {"pairs": n, "words": count_words(table), "shards": shard_count(n, base.shard_size)},
            "faiss": faiss_block,
            "generation": g,
            "paths": paths.to_dict(),
            "files": {name: record.to_dict() for name, record in sorted(files.items())},
            "updates": [*(base.manifest.get("updates") or []), {**update, "at": now_utc(), "generation": g}],
        }
    )
    write_manifest(base.out, manifest)  # the commit point
    Checkpoint.path(base.out).unlink(missing_ok=True)
    collect_garbage(base.out, manifest)
    return g


def _write_generation(
    base: _Base,
    table: pa.Table,
    first_shard: int,
    encoder: StoredFirst,
    checkpoint: Checkpoint,
    *,
    batch_size: int,
    progress: bool,
    after_shard: ShardCallback | None,
) -> tuple[list[str], int, int, StoredVectors]:
    """Write the new pairs file and the shards from ``first_shard`` on; return all shard names,
    shards written, shards reused, and the new generation's stored vectors."""
    g = base.generation + 1
    n = table.num_rows
    stamp = pairs_stamp(n, base.manifest.get("input") or {}, base.manifest["encoder"].get("fingerprint"))
    pairs_name = generation_name(PAIRS_FILE, g)
    checkpoint.record(base.out, pairs_name, write_pairs_parquet(table, base.out / pairs_name, stamp))
    remove_temp_files(base.out / EMBEDDINGS_DIR)
    done = kept_shards(base.out, checkpoint, first_shard=first_shard, generation=g)
    run = encode_stage(
        base.out,
        table.slice(first_shard * base.shard_size),
        encoder,
        checkpoint,
        done=done,
        batch_size=batch_size,
        engine=Engine(),
        progress=progress,
        first_shard=first_shard,
        generation=g,
        after_shard=after_shard,
    )
    names = [
        *base.paths.shards[:first_shard],
        *(shard_name(k, g) for k in range(first_shard, shard_count(n, base.shard_size))),
    ]
    records = {**base.records, **checkpoint.files}
    stored = StoredVectors(
        base.out, n=n, dim=base.stored.dim, shard_size=base.shard_size, records=records, names=names
    )
    return names, run.encoded, run.reused, stored


def add_pairs(
    index_dir: str | os.PathLike[str],
    *,
    pairs: str | os.PathLike[str] | Iterable[PairLike] | None = None,
    vocab: str | os.PathLike[str] | Sequence[str] | None = None,
    encoder: PairEncoder | None = None,
    model: str | None = None,
    k: int | None = None,
    batch_size: int | None = None,
    progress: bool = False,
    after_shard: ShardCallback | None = None,
) -> UpdateReport:
    """Add the given pairs (a pairs file or list, or a vocabulary's candidate pairs, ``k`` nearest
    words each as in the build) that the index lacks; the others are skipped and counted.

    The index's own encoder is loaded from its manifest (``model``: where it is, if elsewhere) unless
    ``encoder`` (with the same fingerprint) is given. ``after_shard(k)`` is called once shard ``k``
    is written and recorded (tests stop an update there).
    """
    out = Path(index_dir)
    read_manifest(out)  # an index at all (no lock file in a folder that is not one)
    with IndexLock(out, "relsearch add"):
        base = _read_base(out)
        settings = (base.manifest.get("build") or {}).get("settings") or {}
        batch = batch_size or int(settings.get("batch_size") or 64)
        loaded: list[PairEncoder] = []

        def enc() -> PairEncoder:
            if not loaded:
                loaded.append(_index_encoder(base, encoder, model))
            return loaded[0]

        given, key = _given_pairs(base, pairs, vocab, k, enc, batch)
        rows, skipped = _new_rows(base, given)
        report = UpdateReport(str(out), "add", given.table.num_rows, rows.num_rows, skipped, base.n)
        report.generation = base.generation
        if rows.num_rows == 0:
            return report
        table = pairs_table(pa.concat_tables([base.table.drop_columns(["id"]), rows]))
        n = table.num_rows
        checkpoint = _checkpoint(base, "add", key, n)
        first_shard = base.n // base.shard_size
        stored_first = StoredFirst(base.pairs, base.stored, enc(), base.manifest["encoder"])
        say(f"adding {rows.num_rows:,} pairs ({skipped:,} already in the index) to {out}", progress)
        names, written, reused, stored = _write_generation(
            base,
            table,
            first_shard,
            stored_first,
            checkpoint,
            batch_size=batch,
            progress=progress,
            after_shard=after_shard,
        )
        index, block, action = _faiss_for(base, stored, n, base.n, lambda m: say(m, progress))
        words = None
        if base.paths.word_vectors:
            all_words = sorted(set(table.column("head").to_pylist()) | set(table.column("tail").to_pylist()))
            words = (all_words, enc().word_vectors(all_words))  # type: ignore[attr-defined]
        update = {
            "kind": "add",
            "source": given.source,
            "added": rows.num_rows,
            "skipped": skipped,
            "faiss": action,
        }
        report.generation = _commit(base, checkpoint, table, names, index, block, words, update)
        report.pairs, report.faiss = n, action
        report.shards_written, report.shards_reused, report.pairs_encoded = (
            written,
            reused,
            stored_first.encoded,
        )
        return report


def remove_pairs(
    index_dir: str | os.PathLike[str],
    *,
    pairs: str | os.PathLike[str] | Iterable[PairLike],
    progress: bool = False,
    after_shard: ShardCallback | None = None,
) -> UpdateReport:
    """Remove the given pairs (a pairs file or list) from the index; pairs it does not hold are
    counted, and it is an error only if none of them is in it. Nothing is encoded."""
    out = Path(index_dir)
    read_manifest(out)
    with IndexLock(out, "relsearch remove"):
        base = _read_base(out)
        given = read_pairs_file(pairs) if isinstance(pairs, str | os.PathLike) else pairs_from_list(pairs)
        heads, tails = given.table.column("head").to_pylist(), given.table.column("tail").to_pylist()
        ids = [base.pairs.pair_id(pair) for pair in zip(heads, tails, strict=True)]
        matched = sorted(i for i in ids if i is not None)
        if not matched:
            raise RelsearchError(
                f"none of the {len(ids):,} pair(s) in {given.source} is in the index at {out} "
                "(already removed?); nothing changed"
            )
        keep = np.ones(base.n, dtype=bool)
        keep[matched] = False
        table = pairs_table(base.table.filter(pa.array(keep)).drop_columns(["id"]))
        if table.num_rows == 0:
            raise RelsearchError(
                f"removing these {len(matched):,} pairs would leave the index at {out} empty"
            )
        n = table.num_rows
        checkpoint = _checkpoint(base, "remove", given.fingerprint, n)
        first_shard = matched[0] // base.shard_size
        copier = StoredFirst(base.pairs, base.stored, None, base.manifest["encoder"])
        say(
            f"removing {len(matched):,} pairs ({len(ids) - len(matched):,} not in the index) from {out}",
            progress,
        )
        names, written, reused, stored = _write_generation(
            base,
            table,
            first_shard,
            copier,
            checkpoint,
            batch_size=4096,
            progress=progress,
            after_shard=after_shard,
        )
        index, block, action = _faiss_for(base, stored, n, None, lambda m: say(m, progress))
        words = None
        if base.paths.word_vectors:
            name = base.paths.word_vectors
            old_words, vectors = read_word_vectors(
                base.out / name, int(base.manifest["word_vectors"]["dim"]), base.records.get(name)
            )
            left = set(table.column("head").to_pylist()) | set(table.column("tail").to_pylist())
            rows = [i for i, w in enumerate(old_words) if w in left]
            words = ([old_words[i] for i in rows], vectors[rows])
        update = {
            "kind": "remove",
            "source": given.source,
            "removed": len(matched),
            "not_found": len(ids) - len(matched),
            "faiss": action,
        }
        report = UpdateReport(str(out), "remove", len(ids), len(matched), len(ids) - len(matched), n)
        report.generation = _commit(base, checkpoint, table, names, index, block, words, update)
        report.faiss, report.shards_written, report.shards_reused = action, written, reused
        return report
