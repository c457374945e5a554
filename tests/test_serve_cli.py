"""``relsearch serve`` as a real process: it answers on 127.0.0.1, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from index_fixtures import *  # noqa: F403  (fixtures)
from serve_process import start_server

REPO = Path(__file__).resolve().parents[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_answers_and_stops_cleanly(tiny_index, stop):
    proc, base = start_server("-i", str(tiny_index))
    try:
        status, health = get(base + "health")
        assert status == 200 and health["pairs"] == 441
        status, hits = get(base + "query?pair=barista:coffee&k=3")
        assert status == 200 and [h["rank"] for h in hits] == [1, 2, 3]
        status, body = get(base + "query?pair=broken")
        assert status == 400 and "'broken'" in body["error"]
        started = time.monotonic()
        proc.send_signal(stop)
        code = proc.wait(timeout=20)
        stopped_in = time.monotonic() - started
        rest = proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, rest
    assert "server stopped" in rest and "Traceback" not in rest and stopped_in < 10
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1].strip("/"))), timeout=2).close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "relsearch", "serve", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_serve_without_an_index_is_one_line(tmp_path):
    result = run_cli("-i", str(tmp_path / "none"), "--port", "0")
    assert result.returncode == 1
    assert (
        result.stderr.strip().startswith("error: no index at")
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_serve_on_a_busy_port_is_one_line(tiny_index):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli("-i", str(tiny_index), "--port", str(port))
    assert result.returncode == 1, result.stderr
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_accepted_connections_get_tcp_nodelay():
    """asyncio sets TCP_NODELAY only on sockets created as TCP; without it each keep-alive response
    waits for the client's delayed ACK (about 40 ms)."""
    import asyncio

    from relsearch.cli.serve import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            raw = writer.get_extra_info("socket")
            seen.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        value = await asyncio.wait_for(seen, 10)
        writer.close()
        server.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0


def test_bind_socket_errors():
    from relsearch.cli.serve import bind_socket
    from relsearch.errors import RelsearchError

    with pytest.raises(RelsearchError, match="not a TCP port"):
        bind_socket("127.0.0.1", 70000)
