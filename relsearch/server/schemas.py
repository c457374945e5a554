"""Request bodies, response shapes (for the OpenAPI schema) and the limits every request is held to."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: Largest ``k`` a request may ask for (and never more than the index holds).
MAX_K = 100
#: Most query pairs in one ``POST /query``.
MAX_BATCH = 64
#: Most pairs in one ``POST /projection`` (a query and its hits).
MAX_PROJECTION = MAX_K + 1
#: Longest pair or word a request may send, in characters.
MAX_TEXT = 200
#: Largest request body, in bytes.
MAX_BODY_BYTES = 64 * 1024

#: A pair as text: 'head:tail', a literal ':' in a word written '\\:'.
PairText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class QueryBatch(BaseModel):
    """``POST /query``: several pairs, the same options as ``GET /query``."""

    model_config = ConfigDict(extra="forbid")

    pairs: list[PairText] = Field(min_length=1, max_length=MAX_BATCH, description="query pairs, 'head:tail'")
    k: int = Field(10, ge=1, le=MAX_K, description="hits per query")
    head: str | None = Field(None, max_length=MAX_TEXT, description="only pairs with this head")
    tail: str | None = Field(None, max_length=MAX_TEXT, description="only pairs with this tail")
    allow_overlap: bool = Field(False, description="keep the query pair and pairs sharing a word with it")


class ProjectionRequest(BaseModel):
    """``POST /projection``: pairs (a query first, then its hits) to place in 2-D."""

    model_config = ConfigDict(extra="forbid")

    pairs: list[PairText] = Field(min_length=1, max_length=MAX_PROJECTION, description="pairs, 'head:tail'")


class HitOut(BaseModel):
    """One hit, exactly as ``relsearch query --json`` prints it; metadata columns follow the core keys."""

    model_config = ConfigDict(extra="allow")

    rank: int
    id: int | None = Field(description="the pair's row in the index; null for a pair encoded on the fly")
    head: str
    tail: str
    score: float = Field(description="cosine similarity to the query")


class AnalogyHitOut(HitOut):
    """An analogy hit as ``relsearch analogy --json`` prints it."""

    answer: str = Field(description="the hit's tail for C:?, its head for ?:D")


class QueryResultOut(BaseModel):
    """One query of a batch, as one line of ``relsearch query --json`` with several pairs."""

    query: str
    hits: list[HitOut]


class PointOut(BaseModel):
    """A pair placed in 2-D."""

    pair: str
    head: str
    tail: str
    x: float
    y: float


class ProjectionOut(BaseModel):
    """The first two principal components of the pairs' relation vectors."""

    points: list[PointOut]
    explained_variance_ratio: list[float] = Field(description="share of the variance on x and on y")


class HealthOut(BaseModel):
    status: str
    pairs: int
    model_loaded: bool = Field(description="whether the model is loaded (it is, after the first new pair)")


class InfoOut(BaseModel):
    """As ``relsearch info --json`` prints it."""

    path: str
    disk_bytes: dict[str, int]
    manifest: dict[str, object]


class ErrorOut(BaseModel):
    """Every error: one line that names the bad value."""

    error: str
