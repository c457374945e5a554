"""The FastAPI application of ``relsearch serve``: the JSON API and the search page over one index.

``create_app(index)`` builds it around an already loaded :class:`RelationIndex`; the answers are
:class:`SearchService`'s, which are the CLI's ``--json`` objects. Endpoints:

=====================  =======================================================================
``GET /query``         ``pair``, ``k``, ``head``, ``tail``, ``allow_overlap``: a list of hits
``POST /query``        ``{"pairs": [...], "k", "head", "tail", "allow_overlap"}``: ``[{"query", "hits"}]``
``GET /analogy``       ``ab`` and ``c`` (A:B :: C:?) or ``d`` (A:B :: ?:D), ``k``: hits with ``answer``
``POST /projection``   ``{"pairs": [...]}``: the pairs' relation vectors in 2-D (PCA)
``GET /info``          the index, as ``relsearch info --json``
``GET /health``        ``{"status": "ok", "pairs", "model_loaded"}``
``GET /``              the search page (``/static/app.js``, ``/static/style.css``)
``GET /openapi.json``  the schema
=====================  =======================================================================
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from relsearch import __version__
from relsearch.index.relation_index import RelationIndex
from relsearch.server.body_limit import BodyLimit
from relsearch.server.error_handlers import install_error_handlers
from relsearch.server.schemas import (
    MAX_BODY_BYTES,
    MAX_K,
    MAX_TEXT,
    AnalogyHitOut,
    ErrorOut,
    HealthOut,
    HitOut,
    InfoOut,
    ProjectionOut,
    ProjectionRequest,
    QueryBatch,
    QueryResultOut,
)
from relsearch.server.service import SearchService
from relsearch.server.static_files import load_static

#: The page loads nothing from elsewhere and runs no inline script.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "a malformed pair, k larger than the index"},
    404: {"model": ErrorOut, "description": "an analogy word that no indexed pair has"},
    413: {"model": ErrorOut, "description": f"a body over {MAX_BODY_BYTES:,} bytes"},
}

PairParam = Annotated[str, Query(min_length=1, max_length=MAX_TEXT, description="'head:tail'")]
KParam = Annotated[int, Query(ge=1, le=MAX_K, description=f"number of hits (at most {MAX_K})")]
WordParam = Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT)]


def create_app(index: RelationIndex) -> FastAPI:
    """The ASGI app serving ``index`` (loaded by the caller, once)."""
    service = SearchService(index)
    static = load_static()
    app = FastAPI(
        title="relsearch",
        version=__version__,
        summary="Relational nearest-neighbour search over word pairs (RelBERT + FAISS).",
        docs_url=None,  # the interactive docs load their scripts from a CDN; the page is offline
        redoc_url=None,
    )
    app.state.service = service
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    def page(name: str) -> Response:
        if name not in static:
            raise HTTPException(404)
        content, media = static[name]
        return Response(content, media_type=media, headers=PAGE_HEADERS)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return page("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        return page(name)

    @app.get("/health", response_model=HealthOut)
    def health() -> dict[str, Any]:
        """Whether the server is up, how many pairs it serves, whether the model is loaded."""
        return service.health()

    @app.get("/info", response_model=InfoOut)
    def info() -> JSONResponse:
        """The index: path, bytes on disk, manifest (as ``relsearch info --json``)."""
        return JSONResponse(service.info())

    @app.get("/query", responses={200: {"model": list[HitOut]}, **ERRORS})
    def query(
        pair: PairParam,
        k: KParam = 10,
        head: WordParam = None,
        tail: WordParam = None,
        allow_overlap: bool = False,
    ) -> JSONResponse:
        """The indexed pairs most relationally similar to ``pair`` (as ``relsearch query PAIR --json``).

        The query pair and pairs sharing a word with it are left out unless ``allow_overlap``;
        ``head``/``tail`` keep only pairs with that head/tail. A pair the index lacks is encoded
        (the first one loads the model).
        """
        return JSONResponse(service.query(pair, k, head=head, tail=tail, allow_overlap=allow_overlap))

    @app.post("/query", responses={200: {"model": list[QueryResultOut]}, **ERRORS})
    def query_batch(body: QueryBatch) -> JSONResponse:
        """Several queries at once (as the lines of ``relsearch query A B ... --json``)."""
        return JSONResponse(
            service.query_batch(
                body.pairs, body.k, head=body.head, tail=body.tail, allow_overlap=body.allow_overlap
            )
        )

    @app.get("/analogy", responses={200: {"model": list[AnalogyHitOut]}, **ERRORS})
    def analogy(ab: PairParam, c: WordParam = None, d: WordParam = None, k: KParam = 10) -> JSONResponse:
        """A:B :: C:? (give ``c``) or A:B :: ?:D (give ``d``) from the indexed pairs
        (as ``relsearch analogy A:B C:? --json``)."""
        return JSONResponse(service.analogy(ab, c=c, d=d, k=k))

    @app.post("/projection", response_model=ProjectionOut, responses=ERRORS)
    def projection(body: ProjectionRequest) -> dict[str, Any]:
        """The pairs' relation vectors on their first two principal axes (the page's picture)."""
        return service.projection(body.pairs)

    return app
