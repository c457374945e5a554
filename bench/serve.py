"""Load on ``relsearch serve``: concurrent clients mixing indexed pairs, new pairs and bad requests.

Starts ``relsearch serve --index INDEX`` on 127.0.0.1 (a free port; nothing else is ever
contacted), then drives it with ``--clients`` threads, each on its own keep-alive connection,
through a seeded mix of requests until ``--requests`` have been sent or ``--max-seconds`` have
passed, whichever comes first:

- ``indexed``: ``GET /query`` of a pair the index holds (stored vector, no model)
- ``new``: ``GET /query`` of a pair of indexed words that the index lacks (encoded by the model)
- ``batch``: ``POST /query`` with 8 indexed pairs; ``analogy``: ``GET /analogy`` with an indexed C
- ``bad``: a malformed pair, k out of range, an unknown analogy word, a body over the size
  limit, a body that is not JSON, an unknown path (each must get its 4xx)

It reports throughput, p50/p99 latency per kind, errors (a 5xx, a refused or dropped
connection, or any status other than the one expected), the server's RSS before the load
(after one new pair loaded the model) and after it, and how Ctrl-C (SIGINT) stops the server.
Baselines measured in the same run: ``RelationIndex.search`` in this process (what the HTTP
layer adds) and ``relsearch query`` as a new process per query (what a server saves).

    python bench/serve.py --index relsearch-index               # the README numbers
    python bench/serve.py --index relsearch-index --requests 300 --cli-runs 0   # a quick check

A human table goes to stdout, then one JSON line with every number.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's relsearch

from relsearch.encoding.cpu_features import cpu_name  # noqa: E402
from relsearch.index.relation_index import RelationIndex  # noqa: E402
from relsearch.pairs import format_pair  # noqa: E402

KINDS = ("indexed", "new", "batch", "analogy", "bad")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", default="relsearch-index", help="index directory to serve")
    p.add_argument("--requests", type=int, default=3000, help="requests to send (at most)")
    p.add_argument("--max-seconds", type=float, default=300.0, help="stop sending after this long")
    p.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    p.add_argument(
        "--mix",
        default="indexed=0.70,new=0.05,batch=0.05,analogy=0.05,bad=0.15",
        help="share of each kind of request",
    )
    p.add_argument("--k", type=int, default=10)
    p.add_argument(
        "--cli-runs", type=int, default=2, help="`relsearch query` processes per kind for the baseline"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    args = p.parse_args(argv)
    if not (1 <= args.requests <= 100_000 and 0 < args.max_seconds <= 3600 and 1 <= args.clients <= 64):
        p.error("--requests 1..100000, --max-seconds up to 3600, --clients 1..64")
    return args


def parse_mix(text: str) -> dict[str, float]:
    mix = {kind: 0.0 for kind in KINDS}
    for item in text.split(","):
        name, _, share = item.partition("=")
        if name.strip() not in mix:
            raise SystemExit(f"--mix: unknown kind {name!r}; use {', '.join(KINDS)}")
        mix[name.strip()] = float(share)
    total = sum(mix.values())
    return {kind: share / total for kind, share in mix.items()}


# -- what to ask ----------------------------------------------------------------------------------
class Workload:
    """Seeded request specs ``(kind, method, path, body, expected status)`` drawn from the index."""

    def __init__(self, index: RelationIndex, k: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.k = k
        n = len(index)
        ids = self.rng.choice(n, size=min(n, 2000), replace=False)
        self.indexed = [format_pair(p) for p in index.table.pairs(ids)]
        words = index.words
        self.new: list[str] = []
        for _ in range(50_000):  # bounded: a small dense index may hold nearly every pair
            h, t = (words[i] for i in self.rng.integers(0, len(words), 2))
            if h != t and (h, t) not in index:
                self.new.append(format_pair((h, t)))
                if len(self.new) == 500:
                    break
        self.heads = sorted({index.table.pair(int(i))[0] for i in ids})
        self.bad = [
            ("GET", "/query?pair=nocolon", None, 400),
            ("GET", f"/query?pair={self.indexed[0]}&k=0", None, 422),
            ("GET", f"/query?pair={self.indexed[0]}&k=100000", None, 422),
            ("GET", f"/analogy?ab={self.indexed[0]}&c=zzzunknownword", None, 404),
            ("POST", "/query", b'{"pairs": ["a:b"], "pad": "' + b"x" * 70_000 + b'"}', 413),
            ("POST", "/query", b"{not json", 422),
            ("GET", "/no/such/endpoint", None, 404),
        ]

    def pick(self, items: list[Any]) -> Any:
        return items[int(self.rng.integers(0, len(items)))]

    def spec(self, kind: str) -> tuple[str, str, str, bytes | None, int]:
        from urllib.parse import urlencode

        if kind == "indexed":
            return (
                kind,
                "GET",
                "/query?" + urlencode({"pair": self.pick(self.indexed), "k": self.k}),
                None,
                200,
            )
        if kind == "new":
            return kind, "GET", "/query?" + urlencode({"pair": self.pick(self.new), "k": self.k}), None, 200
        if kind == "batch":
            pairs = [self.pick(self.indexed) for _ in range(8)]
            return kind, "POST", "/query", json.dumps({"pairs": pairs, "k": self.k}).encode(), 200
        if kind == "analogy":
            query = {"ab": self.pick(self.indexed), "c": self.pick(self.heads), "k": self.k}
            return kind, "GET", "/analogy?" + urlencode(query), None, 200
        method, path, body, status = self.pick(self.bad)
        return kind, method, path, body, status

    def stream(self, mix: dict[str, float], count: int) -> Iterator[tuple[str, str, str, bytes | None, int]]:
        kinds = self.rng.choice(list(mix), size=count, p=list(mix.values()))
        for kind in kinds:
            yield self.spec(str(kind))


# -- the server --------------------------------------------------------------------------------------
def start_server(index: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "relsearch", "serve", "--index", index, "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    line = proc.stderr.readline()  # type: ignore[union-attr]
    match = re.search(r"at http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        raise SystemExit(f"relsearch serve did not start: {line}{proc.stderr.read()}")  # type: ignore[union-attr]
    return proc, int(match.group(1))


def request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None) -> int:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.errors: dict[str, int] = {kind: 0 for kind in KINDS}
        self.examples: list[str] = []

    def add(self, kind: str, seconds: float, ok: bool, what: str) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1
                if len(self.examples) < 5:
                    self.examples.append(what)


def client(port: int, specs: Iterator[Any], feed: threading.Lock, deadline: float, results: Results) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < deadline:
        with feed:
            spec = next(specs, None)
        if spec is None:
            break
        kind, method, path, body, expected = spec
        started = time.perf_counter()
        try:
            status = request(conn, method, path, body)
            ok, what = status == expected, f"{method} {path[:60]} -> {status}, expected {expected}"
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            ok, what = False, f"{method} {path[:60]} -> {type(exc).__name__}: {exc}"
        results.add(kind, time.perf_counter() - started, ok, what)
        if status == 413 or not ok:  # the server closes a connection whose body it refused
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def cli_seconds(index: str, pair: str, runs: int) -> float | None:
    """Median wall time of ``relsearch query PAIR --json`` as a new process."""
    if runs <= 0:
        return None
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "relsearch", "query", pair, "-i", index, "--json"],
            check=True,
            capture_output=True,
            env=env,
            cwd=REPO,
            timeout=600,
        )
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def ms(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q) * 1000) if values else None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    mix = parse_mix(args.mix)
    index = RelationIndex.load(args.index)
    work = Workload(index, args.k, args.seed)
    if mix["new"] > 0 and not work.new:
        raise SystemExit("the index holds every pair of its words: no new pairs to ask (--mix new=0)")

    # baseline 1: the same search in this process (stored vectors, no HTTP)
    inproc = []
    for pair in work.indexed[:200]:
        started = time.perf_counter()
        index.search(pair, k=args.k)
        inproc.append(time.perf_counter() - started)

    proc, port = start_server(args.index)
    try:
        rss_start = rss_mb(proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        first_new = None
        if mix["new"] > 0:  # load the model before measuring (the first new pair pays for it)
            started = time.perf_counter()
            assert request(conn, "GET", f"/query?pair={work.new[-1]}&k={args.k}", None) == 200
            first_new = time.perf_counter() - started
        for pair in work.indexed[:20]:
            request(conn, "GET", f"/query?pair={pair}&k={args.k}", None)
        conn.close()
        rss_before = rss_mb(proc.pid)

        results = Results()
        specs = work.stream(mix, args.requests)
        feed = threading.Lock()
        started = time.monotonic()
        deadline = started + args.max_seconds
        threads = [
            threading.Thread(target=client, args=(port, specs, feed, deadline, results), daemon=True)
            for _ in range(args.clients)
        ]
        peak = [rss_before]
        stop_sampling = threading.Event()

        def sample() -> None:
            while not stop_sampling.wait(0.5):
                peak[0] = max(peak[0], rss_mb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.max_seconds + 120)
        elapsed = time.monotonic() - started
        stop_sampling.set()
        rss_after = rss_mb(proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        alive = request(conn, "GET", "/health", None) == 200
        conn.close()

        sigint_at = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        stop_s = time.perf_counter() - sigint_at
        stderr_tail = proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()

    cli_indexed = cli_seconds(args.index, work.indexed[0], args.cli_runs)
    cli_new = cli_seconds(args.index, work.new[0], args.cli_runs) if mix["new"] > 0 else None
    sent = sum(len(v) for v in results.latency.values())
    report: dict[str, Any] = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "index": str(Path(args.index).resolve()),
        "pairs": len(index),
        "dim": index.dim,
        "model": index.model_name,
        "clients": args.clients,
        "mix": mix,
        "requests": sent,
        "seconds": elapsed,
        "throughput_rps": sent / elapsed,
        "errors": sum(results.errors.values()),
        "error_examples": results.examples,
        "kinds": {
            kind: {
                "count": len(v),
                "p50_ms": ms(v, 50),
                "p99_ms": ms(v, 99),
                "errors": results.errors[kind],
            }
            for kind, v in results.latency.items()
        },
        "first_new_pair_s": first_new,
        "in_process_indexed_p50_ms": ms(inproc, 50),
        "cli_process_indexed_s": cli_indexed,
        "cli_process_new_s": cli_new,
        "rss_mb": {"start": rss_start, "before_load": rss_before, "peak": peak[0], "after_load": rss_after},
        "alive_after_load": alive,
        "sigint": {"exit_code": code, "seconds": stop_s, "traceback": "Traceback" in stderr_tail},
    }
    if not args.json:
        print_table(report)
    print(json.dumps(report))


def print_table(r: dict[str, Any]) -> None:
    print(f"relsearch serve: {r['pairs']:,} pairs (dim {r['dim']}), {r['clients']} clients, 127.0.0.1")
    print(f"CPU: {r['cpu']}, {r['cores']} cores, load average {r['load_average_1min']:.2f} at the end")
    print(
        f"{r['requests']:,} requests in {r['seconds']:.1f} s: {r['throughput_rps']:.0f} requests/s, "
        f"{r['errors']} errors"
    )
    print(f"{'kind':<9} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for kind, k in r["kinds"].items():
        if k["count"]:
            print(f"{kind:<9} {k['count']:>6} {k['p50_ms']:>8.1f} {k['p99_ms']:>8.1f} {k['errors']:>6}")
    indexed = r["kinds"]["indexed"]["p50_ms"]
    if r["first_new_pair_s"] is not None:
        print(f"first new pair (loads the model): {r['first_new_pair_s']:.2f} s")
    if indexed:
        print(
            f"indexed p50 over HTTP {indexed:.1f} ms vs RelationIndex.search in-process "
            f"{r['in_process_indexed_p50_ms']:.1f} ms ({indexed / r['in_process_indexed_p50_ms']:.1f}x)"
        )
    if r["cli_process_indexed_s"] and indexed:
        new = r["kinds"]["new"]["p50_ms"]
        print(
            f"relsearch query as a new process: indexed {r['cli_process_indexed_s']:.2f} s "
            f"({r['cli_process_indexed_s'] * 1000 / indexed:.0f}x the served p50), new pair "
            + (f"{r['cli_process_new_s']:.2f} s ({r['cli_process_new_s'] * 1000 / new:.0f}x)" if new else "-")
        )
    m = r["rss_mb"]
    print(
        f"server RSS: {m['start']:.0f} MB at start, {m['before_load']:.0f} MB with the model, "
        f"{m['after_load']:.0f} MB after the load (peak {m['peak']:.0f} MB, "
        f"{m['after_load'] - m['before_load']:+.0f} MB)"
    )
    s = r["sigint"]
    print(
        f"answering after the load: {r['alive_after_load']}; SIGINT: exit code {s['exit_code']} in "
        f"{s['seconds']:.2f} s, traceback: {s['traceback']}"
    )
    for example in r["error_examples"]:
        print(f"  error: {example}")


if __name__ == "__main__":
    main()
