"""The *finalize* stage, shared by build and add: word vectors, the FAISS index, the manifest last.

Every file's record (size, xxh3-128) goes into the manifest; the checkpoint is removed after
it. Until the manifest is replaced, the directory is the index it was before.
"""

from __future__ import annotations

import os
import platform
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from index_builder.faiss_build import FaissResult, build_faiss_index
from index_builder.index_choice import IndexPlan
from index_builder.shards import PairEncoder
from relsearch.index.stored_vectors import StoredVectors
from relsearch.storage.checkpoint import Checkpoint
from relsearch.storage.checksums import FileRecord
from relsearch.storage.faiss_file import write_faiss_index
from relsearch.storage.layout import FAISS_FILE, WORD_VECTORS_FILE, shard_name
from relsearch.storage.shard_files import shard_count
from relsearch.storage.word_vectors_file import write_word_vectors

Say = Callable[[str], None]


def peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if platform.system() == "Darwin" else peak * 1024)


def host_info() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform()}


def store_word_vectors(
    out: Path, encoder: PairEncoder, table: pa.Table, say: Say
) -> tuple[dict[str, Any], FileRecord] | None:
    """Write the word vectors of a hybrid encoder for every indexed word (see
    :mod:`relsearch.storage.word_vectors_file`); None for encoders without a word part."""
    if not getattr(encoder, "word_weight", 0) or not hasattr(encoder, "word_vectors"):
        return None
    both = pa.chunked_array([*table.column("head").chunks, *table.column("tail").chunks])
    words = sorted(pc.unique(both).to_pylist())
    say(f"storing the word vectors of {len(words):,} words")
    vectors = encoder.word_vectors(words)  # cached during encoding; computed here after a resume
    record = write_word_vectors(out / WORD_VECTORS_FILE, words, vectors)
    return {"file": WORD_VECTORS_FILE, "words": len(words), "dim": int(vectors.shape[1])}, record


def stored_vectors(out: Path, checkpoint: Checkpoint) -> StoredVectors:
    """The shards of a build, each checked against its checkpoint record as it is read."""
    return StoredVectors(
        out,
        n=checkpoint.pairs,
        dim=checkpoint.dim,
        shard_size=checkpoint.shard_size,
        records=shard_records(checkpoint),
    )


def shard_records(checkpoint: Checkpoint) -> dict[str, FileRecord]:
    names = [shard_name(k) for k in range(shard_count(checkpoint.pairs, checkpoint.shard_size))]
    return {name: checkpoint.files[name] for name in names if name in checkpoint.files}


def build_faiss(
    out: Path, checkpoint: Checkpoint, plan: IndexPlan, say: Say
) -> tuple[FaissResult, FileRecord]:
    """Train and fill the planned FAISS index from the checked shards and write it."""
    say(f"building the FAISS index ({plan.factory})")
    result = build_faiss_index(stored_vectors(out, checkpoint), plan)
    return result, write_faiss_index(result.index, out / FAISS_FILE)
