"""``relsearch serve``: the HTTP API and the search page over one index (uvicorn; the ``serve`` extra)."""

from __future__ import annotations

import ipaddress
import signal
import socket
from typing import Annotated

import typer

from relsearch.cli.output import err, handle_errors
from relsearch.cli.query_common import IndexModelOpt, IndexOpt, MmapOpt
from relsearch.errors import RelsearchError

INSTALL_HINT = "relsearch serve needs the serve extra: pip install -e '.[serve]' (FastAPI and uvicorn)"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; ``RelsearchError`` if it cannot be had."""
    if not 0 <= port <= 65535:
        raise RelsearchError(f"--port {port} is not a TCP port (0 to 65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RelsearchError(f"--host {host!r} is not an address of this machine: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it a keep-alive client waits 40 ms (delayed ACK) for the second half of each response
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise RelsearchError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@handle_errors
def serve(
    index: IndexOpt = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but a loopback address exposes the API.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free port).")] = 8000,
    model: IndexModelOpt = None,
    mmap: MmapOpt = False,
) -> None:
    """Serve an index over HTTP: a JSON API (/query, /analogy, /info, /health) and a search page at /.

    The index loads once; the model loads on the first query with a pair the index lacks.
    Ctrl-C stops the server.
    """
    try:
        import uvicorn

        from relsearch.server.app import create_app
    except ImportError as exc:
        raise RelsearchError(f"{INSTALL_HINT} (missing: {exc.name})") from None
    from relsearch.index.relation_index import RelationIndex

    idx = RelationIndex.load(index, mmap=mmap, model=model)
    app = create_app(idx)
    sock = bind_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    err.print(
        f"serving {len(idx):,} pairs from {idx.path} at http://{shown}:{bound_port}/ (Ctrl-C stops)",
        markup=False,
    )
    if not _is_loopback(host):
        err.print(
            f"warning: listening on {host}: anyone who can reach this address can query the index "
            "(the API has no authentication)",
            markup=False,
        )
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: both come back
    # here as KeyboardInterrupt, and stopping is this command's normal end (exit 0)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    err.print("server stopped", markup=False)
