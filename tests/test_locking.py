"""One writer per index directory: a second build, update or verify exits at once naming the
holder's pid; a lock left by a killed process does not block."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_encoder import FakeEncoder
from typer.testing import CliRunner

from index_builder.build import build_index
from relsearch.cli.app import app
from relsearch.errors import IndexLockedError
from relsearch.index.verify import verify_index
from relsearch.storage.layout import LOCK_FILE, MANIFEST_FILE
from relsearch.storage.lock import IndexLock

ROOT = Path(__file__).resolve().parents[1]
PAIRS = [(f"h{i}", f"t{i % 17}") for i in range(120)]
#: A build in another process whose encoder takes 1 s per shard: it holds the lock for 24 s.
SLOW_BUILD = """
import sys
sys.path.insert(0, {tests!r})
from fake_encoder import FakeEncoder
from index_builder.build import build_index
pairs = [(f"h{{i}}", f"t{{i % 17}}") for i in range(120)]
build_index({out!r}, pairs=pairs, encoder=FakeEncoder(delay=1.0), shard_size=5, batch_size=4)
"""


def start_slow_build(out: Path) -> subprocess.Popen:
    code = SLOW_BUILD.format(tests=str(ROOT / "tests"), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until it holds the lock
        lock = out / LOCK_FILE
        if lock.exists() and lock.read_text().strip() and json.loads(lock.read_text())["pid"] == proc.pid:
            return proc
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the slow build never took the lock")


def test_second_writer_is_refused_at_once_and_a_killed_holder_does_not_block(tmp_path):
    out = tmp_path / "idx"
    proc = start_slow_build(out)
    try:
        t0 = time.monotonic()
        with pytest.raises(
            IndexLockedError, match=rf"is being written by pid {proc.pid} on .*relsearch build-index"
        ):
            build_index(out, pairs=PAIRS, encoder=FakeEncoder(), shard_size=5)
        assert time.monotonic() - t0 < 5  # at once, not after the other build
        with pytest.raises(IndexLockedError, match=rf"pid {proc.pid}"):
            build_index(out, pairs=PAIRS, encoder=FakeEncoder(), shard_size=5, overwrite=True)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert json.loads((out / LOCK_FILE).read_text())["pid"] == proc.pid  # the stale content stays...
    report = build_index(out, pairs=PAIRS, encoder=FakeEncoder(), shard_size=5)  # ...and blocks nothing
    assert report.pairs == 120 and (out / MANIFEST_FILE).exists()
    assert (out / LOCK_FILE).read_text() == ""  # released: emptied


def test_cli_second_build_prints_one_line_with_the_pid(tmp_path):
    out = tmp_path / "idx"
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{h}\t{t}\n" for h, t in PAIRS))
    proc = start_slow_build(out)
    try:
        result = CliRunner().invoke(
            app, ["build-index", "--pairs", str(pairs), "--out", str(out), "--overwrite"]
        )
        verify = CliRunner().invoke(app, ["verify", "-i", str(out)])
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and f"pid {proc.pid}" in result.stderr
    assert "Traceback" not in result.output
    assert verify.exit_code == 1  # a partial build is not an index: nothing to verify


def test_verify_holds_the_lock(tmp_path):
    out = tmp_path / "idx"
    build_index(out, pairs=PAIRS, encoder=FakeEncoder(), shard_size=50)
    with IndexLock(out, "test holder"), pytest.raises(IndexLockedError, match=r"test holder"):
        verify_index(out)
    assert verify_index(out).ok
