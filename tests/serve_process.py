"""Start ``relsearch serve`` as a real process on 127.0.0.1 (any free port) for tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def start_server(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``relsearch serve ARGS --port 0``; return the process and its base URL (``http://.../``).

    It is ready when this returns (the address line is printed once the socket listens).
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "relsearch", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    line = proc.stderr.readline()  # type: ignore[union-attr]
    match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"relsearch serve printed no address: {line!r} {proc.stderr.read()}")  # type: ignore[union-attr]
    return proc, match.group(1)


def stop_server(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
