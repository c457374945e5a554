"""``relsearch info``: what an index holds, read from its manifest (no FAISS or model loaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from relsearch.cli.output import handle_errors, out, print_json
from relsearch.cli.query_common import IndexOpt, JsonOpt
from relsearch.index.format import EMBEDDINGS_DIR, FAISS_FILE, PAIRS_FILE, default_index_dir, read_manifest
from relsearch.json_output import disk_usage, index_info


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _items(value: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, item in value.items():
        name = f"{prefix}{key}"
        out += _items(item, name + ".") if isinstance(item, dict) and item else [f"{name}={_flat(item)}"]
    return out


def _flat(value: Any) -> str:
    """A manifest value on one line: nested dicts as 'a.b=value, ...'."""
    if isinstance(value, dict):
        return ", ".join(_items(value)) or "-"
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value) or "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _word_vectors_line(stored: dict[str, Any] | None, enc: dict[str, Any]) -> str:
    if stored:
        words, file = stored.get("words", 0), stored.get("file", "-")
        return f"{words:,} words ({file}): new pairs of these words need one forward pass"
    if enc.get("word_weight"):
        return "not stored (built before relsearch stored them): computed for each new pair"
    return "none (prompt-only vectors)"


def verified_line(path: Path) -> str:
    """What the last ``relsearch verify`` of this very manifest found (``verified.json``)."""
    from relsearch.storage.verify_record import read_verify_record

    record = read_verify_record(path)
    if record is None:
        return "never: run `relsearch verify` to check every file (sizes, checksums, contents)"
    when = record.get("verified", "?")
    if not record.get("ok"):
        names = ", ".join(p.get("file", "?") for p in record.get("problems", []))
        return f"DAMAGED at {when}: {names}; run `relsearch verify` for the fix"
    if not record.get("checksums"):
        return f"ok at {when}, contents only (no checksums recorded: `relsearch verify --repair` adds them)"
    return f"ok, all {record.get('files', 0)} files matched their checksums ({when})"


def summary_rows(path: Path, manifest: dict[str, Any], sizes: dict[str, int]) -> list[tuple[str, str]]:
    """(field, value) lines describing the index."""
    enc = manifest.get("encoder") or {}
    fa = manifest.get("faiss") or {}
    counts = manifest.get("counts") or {}
    template = str(enc.get("template", "-"))
    recall = fa.get("recall_at_10")
    rows = [
        ("index", str(path.resolve())),
        (
            "format",
            f"{manifest.get('format')} v{manifest.get('format_version')}, "
            f"created {manifest.get('created', '-')}",
        ),
        (
            "pairs",
            f"{counts.get('pairs', 0):,} pairs over {counts.get('words', 0):,} words, "
            f"in {counts.get('shards', 0)} shard(s) of up to {manifest.get('shard_size', 0):,}",
        ),
        ("model", _model_line(str(enc.get("model", "-")), enc.get("word_model"))),
        ("template", template if len(template) <= 90 else template[:87] + "..."),
        (
            "encoding",
            f"pooling {enc.get('aggregation', '-')}, max length {enc.get('max_length', '-')}, "
            f"{enc.get('dtype', '-')}, dim {enc.get('dim', '-')}",
        ),
        ("backend", _backend_line(enc, (manifest.get("build") or {}).get("backend"))),
        ("fingerprint", str(enc.get("fingerprint", "-"))),
        ("word vectors", _word_vectors_line(manifest.get("word_vectors"), enc)),
        (
            "faiss",
            f"{fa.get('factory', '-')} ({fa.get('metric', '-')}), search {_flat(fa.get('search_params'))}",
        ),
        ("recall@10", "not measured" if recall is None else f"{recall:.4f} vs exact search"),
        ("verified", verified_line(path)),
        ("input", _flat(manifest.get("input"))),
        ("build", _flat(manifest.get("build"))),
        ("versions", _flat(manifest.get("versions"))),
        (
            "disk",
            f"{human_bytes(sizes['total'])} (index {human_bytes(sizes[FAISS_FILE])}, vectors "
            f"{human_bytes(sizes[EMBEDDINGS_DIR])}, pairs {human_bytes(sizes[PAIRS_FILE])})",
        ),
    ]
    return rows


def _model_line(model: str, word_model: str | None) -> str:
    """The model path, named when it is a shipped one, and where hybrid word vectors come from."""
    from relsearch.default_model import FAST_MODEL_DIR, SHIPPED_MODEL_DIR

    names = {str(SHIPPED_MODEL_DIR.resolve()): "the default model", str(FAST_MODEL_DIR.resolve()): "fast"}
    text = f"{names[model]} ({model})" if model in names else model
    if word_model:
        text += f"; word vectors from {names.get(word_model, word_model)}"
    return text


def _backend_line(enc: dict[str, Any], choice: dict[str, Any] | None) -> str:
    """``torch bfloat16 (why)``: how the build encoded, and why that way."""
    text = f"{enc.get('backend', 'torch')} {enc.get('dtype', '-')}"
    why = (choice or {}).get("why")
    return f"{text} ({why})" if why else text


@handle_errors
def info(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Describe an index: size, model, FAISS type, how it was built."""
    path = index if index is not None else default_index_dir()
    manifest = read_manifest(path)
    if as_json:
        print_json(index_info(path, manifest))
        return
    sizes = disk_usage(path, manifest)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in summary_rows(path, manifest, sizes):
        table.add_row(name, value)
    out.print(table)
