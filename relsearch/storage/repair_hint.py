"""What to do about a damaged file of an index: the command that fixes it, or a rebuild."""

from __future__ import annotations

from relsearch.storage.layout import MANIFEST_FILE, shard_number


def repair_hint(file: str, index_dir: str | None) -> str:
    """One sentence for ``DamagedFileError``: which command repairs ``file`` (or rebuilds)."""
    where = f" --index {index_dir}" if index_dir else ""
    shard = shard_number(file)
    if shard is not None:
        return (
            f"re-encode just that shard with `relsearch verify{where} --repair` (it loads the index's "
            "model), or restore the file from a backup"
        )
    if file.endswith(".faiss"):
        return f"rebuild it from the stored vectors with `relsearch verify{where} --repair` (no model needed)"
    if file.startswith("word_vectors."):
        return f"recompute it with `relsearch verify{where} --repair` (it loads the index's model)"
    if file.startswith("pairs.") or file == MANIFEST_FILE:
        return "restore it from a backup or rebuild the index with `relsearch build-index ... --overwrite`"
    return "restore it from a backup or rebuild the index"
