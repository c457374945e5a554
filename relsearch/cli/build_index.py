"""``relsearch build-index``: vocabulary or pairs file → a resumable relsearch index."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from index_builder.defaults import DEFAULT_BATCH_SIZE, DEFAULT_K, DEFAULT_MEMORY_BUDGET, DEFAULT_SHARD_SIZE
from relsearch.cli.options import BackendOpt, DtypeOpt, ModelOpt
from relsearch.cli.output import err, fail, handle_errors, out, print_json


def _seconds(value: float) -> str:
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{value:.1f} s"


def _print_report(report: Any) -> None:
    from index_builder.index_choice import format_bytes

    plan = report.index_plan
    out.print(f"pairs: {report.pairs:,} over {report.words:,} words ({report.shards:,} shards)")
    if report.dry_run:
        est = report.estimates
        out.print(f"index: {plan['factory']} ({plan['reason']})")
        out.print(
            f"estimated encoding time: {_seconds(est['encode_seconds'])} "
            f"({est['pairs_per_second']:,.1f} pairs/s measured on {est['sample_pairs']} pairs)"
        )
        out.print(f"estimated peak memory: {format_bytes(est['peak_memory_bytes'])}")
        out.print(f"estimated disk: {format_bytes(est['disk_bytes'])}")
        out.print(f"--out {report.out_dir}: {est['out_dir']}")
        return
    faiss_info = report.faiss
    params = ", ".join(f"{k}={v}" for k, v in faiss_info["search_params"].items())
    out.print(
        f"index: {faiss_info['factory']}{f' ({params})' if params else ''}, "
        f"recall@10 {faiss_info['recall_at_10']:.4f} ({faiss_info['recall_method']})"
    )
    if report.shards_reused:
        out.print(f"resumed: {report.shards_reused} shard(s) reused, {report.shards_encoded} encoded")
    if report.ray and report.ray.get("workers"):
        ray = report.ray
        out.print(
            f"ray: {ray['workers']} worker(s) on {ray['nodes']} node(s), Ray {ray['address']}; "
            f"shards per worker: {', '.join(str(v) for v in ray['shards_by_worker'].values())}"
        )
        if ray.get("pairs_per_worker_second"):
            out.print(
                f"ray encoding: {ray['pairs_per_worker_second']:,} pairs/s per worker "
                f"({ray['worker_seconds']:,} s of encoding in all)"
            )
    d = report.durations
    out.print(
        f"time: candidates {_seconds(d['candidates'])}, encoding {_seconds(d['encode'])}, "
        f"faiss {_seconds(d['faiss'])}, total {_seconds(d['total'])}"
    )
    out.print(f"written: {report.out_dir}")


def _interrupted(out_dir: Path) -> typer.Exit:
    from relsearch.index.format import CHECKPOINT_FILE, EMBEDDINGS_DIR

    command = "relsearch " + shlex.join(sys.argv[1:])
    if (out_dir / EMBEDDINGS_DIR / CHECKPOINT_FILE).exists():
        saved = len(list((out_dir / EMBEDDINGS_DIR).glob("part-*.npy")))
        err.print(
            f"interrupted: {saved} complete shard(s) are kept in {out_dir / EMBEDDINGS_DIR}. "
            f"Run the same command again to resume:\n  {command}",
            markup=False,
        )
    else:
        err.print("interrupted before the build wrote anything", markup=False)
    return typer.Exit(130)


@handle_errors
def build_index(
    vocab: Annotated[
        Path | None,
        typer.Argument(help="Vocabulary: one word or term per line (# comments). Or use --pairs."),
    ] = None,
    pairs: Annotated[
        Path | None,
        typer.Option("--pairs", help="Pairs file: TSV/CSV/Parquet with head, tail (+ metadata) columns."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Index directory. Default: $RELSEARCH_INDEX or ./relsearch-index."),
    ] = None,
    model: ModelOpt = None,
    k: Annotated[int, typer.Option("--k", help="Candidate pairs: each word's k nearest words.")] = DEFAULT_K,
    all_pairs: Annotated[
        bool, typer.Option("--all-pairs", help="Every ordered pair of the vocabulary (≤ 1,000,000).")
    ] = False,
    shard_size: Annotated[int, typer.Option(help="Pairs per embedding shard.")] = DEFAULT_SHARD_SIZE,
    batch_size: Annotated[int, typer.Option(help="Pairs per model forward pass.")] = DEFAULT_BATCH_SIZE,
    memory_budget: Annotated[
        str, typer.Option(help="RAM the FAISS index may use, e.g. 512M, 8G (chooses the index type).")
    ] = DEFAULT_MEMORY_BUDGET,
    index_key: Annotated[
        str | None, typer.Option(help="Force a FAISS factory string, e.g. 'IVF1024,SQ8'.")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="Where encoding runs: local (this process) or ray (a Ray Data actor pool).")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="--engine ray: join the Ray cluster at this address (e.g. HEAD:6379, or auto). "
            "Default: start a local Ray sized to this machine."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="--engine ray: encoder actors, 1 CPU each. Default: one per CPU of the cluster."),
    ] = None,
    dtype: DtypeOpt = "auto",
    backend: BackendOpt = "auto",
    word_model: Annotated[
        str | None,
        typer.Option(
            "--word-model",
            help="Model whose single-word vectors pick a vocabulary's candidate pairs. Default: the "
            "base model of a delta model (the default model's base), else the relation model itself; "
            "'relation-model' forces the latter.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print pair count, index type and estimates; write nothing.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing index or partial build in --out.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build report as JSON.")] = False,
) -> None:
    """Build a relation index from a vocabulary (candidate pairs) or a pairs file; resumable."""
    if (vocab is None) == (pairs is None):
        raise fail(
            "give exactly one of VOCAB and --pairs (e.g. `relsearch build-index data/vocab.txt`)", code=2
        )
    from relsearch.index.format import default_index_dir

    target = out_dir or default_index_dir()
    from index_builder.build import build_index as run_build

    try:
        report = run_build(
            target,
            vocab=vocab,
            pairs=pairs,
            model=model,
            k=k,
            all_pairs=all_pairs,
            shard_size=shard_size,
            batch_size=batch_size,
            memory_budget=memory_budget,
            index_key=index_key,
            engine=engine,
            ray_address=ray_address,
            workers=workers,
            overwrite=overwrite,
            dry_run=dry_run,
            progress=True,
            dtype=dtype,
            backend=backend,
            word_model=word_model,
        )
    except KeyboardInterrupt:
        raise _interrupted(target) from None
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)
