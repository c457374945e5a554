"""Every failure as a JSON ``{"error": "..."}`` with a 4xx status; a bug is a 500 with one line (the
ASGI server logs its traceback).

- ``RelsearchError`` (malformed pair, k larger than the index, bad analogy question): 400
- ``UnknownWordError`` (an analogy's C or D that no indexed pair has): 404
- a parameter of the wrong type, out of range, too long or missing, a body that is not JSON: 422
  (FastAPI's status for these; ``detail`` keeps its list of problems)
- unknown path 404, wrong method 405, body too large 413
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from relsearch.errors import RelsearchError
from relsearch.server.service import UnknownWordError

#: Longest value quoted back in an error message.
QUOTE_CHARS = 80


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 3] + "..."


def describe_validation_error(error: dict[str, Any]) -> str:
    """One problem of a ``RequestValidationError`` as a line naming the parameter and its value."""
    where, *path = error.get("loc") or ("request",)
    name = ".".join(str(p) for p in path) or "body"
    kind = {"query": "query parameter", "body": "body field", "path": "path parameter"}.get(str(where), where)
    message = str(error.get("msg", "is invalid"))
    if error.get("type") == "missing":
        return f"{kind} {name!r} is required"
    if error.get("type") == "json_invalid":
        return f"request body is not valid JSON ({(error.get('ctx') or {}).get('error', message)})"
    return f"{kind} {name}={_quote(error.get('input'))}: {message}"


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""

    @app.exception_handler(UnknownWordError)
    async def unknown_word(request: Request, exc: UnknownWordError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(RelsearchError)
    async def bad_value(request: Request, exc: RelsearchError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [describe_validation_error(e) for e in exc.errors()]
        detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return _error(422, "; ".join(problems) or "invalid request", detail=detail)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"no such endpoint {request.url.path[:QUOTE_CHARS]!r}; see /openapi.json"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path[:QUOTE_CHARS]!r}"
        else:
            message = str(exc.detail)
        return _error(exc.status_code, message)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # the ASGI server logs the traceback; the client gets one line
        return _error(500, "internal server error (the server's log has the details)")
