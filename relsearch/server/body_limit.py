"""ASGI middleware that refuses request bodies over a size limit with 413 before the app reads them."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException


def too_large_message(limit: int) -> str:
    return f"request body is larger than {limit:,} bytes"


class BodyLimit:
    """Wraps an ASGI app: a ``Content-Length`` over ``limit`` is answered 413 at once; a body sent
    without one (chunked) is counted as it arrives, and reading past ``limit`` raises a 413
    ``HTTPException`` that the app's exception handlers turn into the JSON error."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._reply_413(send)
                return
        seen = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, too_large_message(self.limit))
            return message

        await self.app(scope, limited_receive, send)

    async def _reply_413(self, send: Any) -> None:
        body = json.dumps({"error": too_large_message(self.limit)}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
