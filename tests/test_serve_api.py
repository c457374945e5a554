"""The HTTP API through its real ASGI app (FastAPI's TestClient) on a real index with a tiny model."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fake_encoder import FakeEncoder
from fastapi.testclient import TestClient
from index_factory import encoded_index
from index_fixtures import *  # noqa: F403  (fixtures)
from index_fixtures import NO_HEAD
from typer.testing import CliRunner

from relsearch.cli.app import app as cli
from relsearch.index.relation_index import RelationIndex
from relsearch.server.app import create_app
from relsearch.server.schemas import MAX_BATCH, MAX_BODY_BYTES, MAX_K, MAX_TEXT

runner = CliRunner()


@pytest.fixture(scope="module")
def client(tiny_index):
    with TestClient(create_app(RelationIndex.load(tiny_index)), raise_server_exceptions=False) as c:
        yield c


def cli_json(*args: str):
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else lines


def error(response, status: int) -> str:
    """The response is ``status`` with a one-line JSON error and no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and "\n" not in body["error"]
    assert "Traceback" not in response.text
    return body["error"]


# -- the same JSON as the CLI's --json ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "flags"),
    [
        ({"pair": "barista:coffee"}, []),
        ({"pair": "barista:coffee", "k": 7}, ["-k", "7"]),
        ({"pair": "barista:coffee", "head": "king"}, ["--head", "king"]),
        ({"pair": "barista:coffee", "tail": "queen", "k": 3}, ["--tail", "queen", "-k", "3"]),
        ({"pair": "barista:coffee", "allow_overlap": "true", "k": 2}, ["--allow-overlap", "-k", "2"]),
    ],
)
def test_get_query_equals_cli_json(client, tiny_index, params, flags):
    response = client.get("/query", params=params)
    assert response.status_code == 200, response.text
    expected = cli_json("query", params["pair"], "-i", str(tiny_index), "--json", *flags)
    assert response.json() == expected
    assert len(expected) == params.get("k", 10)


def test_new_pair_is_encoded_and_equals_cli(client, tiny_index):
    """A pair the index lacks (head kitten) is encoded with the index's model, as the CLI does."""
    pair = f"{NO_HEAD}:dog"
    hits = client.get("/query", params={"pair": pair, "k": 5}).json()
    assert hits == cli_json("query", pair, "-i", str(tiny_index), "-k", "5", "--json")
    assert client.get("/health").json()["model_loaded"] is True


def test_post_query_equals_cli_lines(client, tiny_index):
    body = {"pairs": ["barista:coffee", "dog:puppy", f"{NO_HEAD}:cat"], "k": 4, "head": "king"}
    response = client.post("/query", json=body)
    assert response.status_code == 200, response.text
    expected = cli_json("query", *body["pairs"], "-i", str(tiny_index), "-k", "4", "--head", "king", "--json")
    assert response.json() == expected
    assert [r["query"] for r in response.json()] == body["pairs"]


@pytest.mark.parametrize(
    ("params", "target"),
    [
        ({"ab": "barista:coffee", "c": "baker"}, "baker:?"),
        ({"ab": "barista:coffee", "d": "bread", "k": 3}, "?:bread"),
    ],
)
def test_analogy_equals_cli_json(client, tiny_index, params, target):
    response = client.get("/analogy", params=params)
    assert response.status_code == 200, response.text
    flags = ["-k", str(params["k"])] if "k" in params else []
    expected = cli_json("analogy", params["ab"], target, "-i", str(tiny_index), "--json", *flags)
    assert response.json() == expected
    side = "tail" if "c" in params else "head"
    assert all(h["answer"] == h[side] for h in expected)


def test_info_equals_cli_json(client, tiny_index):
    assert client.get("/info").json() == cli_json("info", "-i", str(tiny_index), "--json")


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["pairs"] == 441 and isinstance(body["model_loaded"], bool)


def test_projection_places_the_query_and_hits(client):
    hits = client.get("/query", params={"pair": "barista:coffee", "k": 8}).json()
    pairs = ["barista:coffee", *(f"{h['head']}:{h['tail']}" for h in hits)]
    body = client.post("/projection", json={"pairs": pairs}).json()
    assert [p["pair"] for p in body["points"]] == pairs
    assert body["points"][0]["x"] >= 0 and body["points"][0]["y"] >= 0
    ratios = body["explained_variance_ratio"]
    assert len(ratios) == 2 and 0 < ratios[1] <= ratios[0] <= 1
    assert len({(round(p["x"], 6), round(p["y"], 6)) for p in body["points"]}) == len(pairs)


def test_openapi_schema_lists_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    assert {"/query", "/analogy", "/info", "/health", "/projection"} <= set(schema["paths"])
    assert {"get", "post"} <= set(schema["paths"]["/query"])
    params = {p["name"] for p in schema["paths"]["/query"]["get"]["parameters"]}
    assert params == {"pair", "k", "head", "tail", "allow_overlap"}


# -- the page ----------------------------------------------------------------------------------------------
def test_page_and_its_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name, media in [("app.js", "text/javascript"), ("style.css", "text/css")]:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
        assert f"/static/{name}" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere


@pytest.mark.parametrize(
    "name", ["../app.py", "..%2Fapp.py", "%2e%2e/schemas.py", "index.htm", "/etc/passwd"]
)
def test_static_names_never_reach_the_filesystem(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 404
    assert "import" not in response.text and "root:" not in response.text


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "status", "named"),
    [
        ({"pair": "barista"}, 400, "'barista'"),
        ({"pair": "a:b:c"}, 400, "'a:b:c'"),
        ({"pair": ":coffee"}, 400, "':coffee'"),
        ({"pair": "<mask>:coffee"}, 400, "<mask>"),
        ({"pair": "bar\x01ista:coffee"}, 400, "control character"),
        ({"pair": "barista:coffee", "k": 0}, 422, "k='0'"),
        ({"pair": "barista:coffee", "k": MAX_K + 1}, 422, f"k='{MAX_K + 1}'"),
        ({"pair": "barista:coffee", "k": "ten"}, 422, "k='ten'"),
        ({"pair": "barista:coffee", "k": "1e9"}, 422, "k='1e9'"),
        ({"pair": "barista:coffee", "allow_overlap": "perhaps"}, 422, "allow_overlap='perhaps'"),
        ({"pair": "barista:coffee", "head": " "}, 400, "head filter"),
        ({"pair": "barista:coffee", "tail": "nosuch"}, 404, "tail 'nosuch'"),
        ({"pair": "barista:coffee", "head": "nosuch"}, 404, "head 'nosuch'"),
        ({"pair": "x" * (MAX_TEXT + 1) + ":y"}, 422, "pair="),
        ({}, 422, "'pair' is required"),
    ],
)
def test_bad_query_is_a_4xx_naming_the_value(client, params, status, named):
    assert named in error(client.get("/query", params=params), status)


def test_k_larger_than_the_index_is_refused(tmp_path):
    """A 3-pair index: k=5 is within MAX_K but more than the index holds."""
    pairs = [("baker", "bread"), ("brewer", "beer"), ("king", "queen")]
    encoder = FakeEncoder(dim=8)
    index = RelationIndex.load(encoded_index(tmp_path / "small", encoder, pairs))
    with TestClient(create_app(index)) as small:
        assert "k=5 is larger than the index" in error(
            small.get("/query", params={"pair": "baker:bread", "k": 5}), 400
        )
        assert (
            small.get("/query", params={"pair": "baker:bread", "k": 3, "allow_overlap": True}).status_code
            == 200
        )


@pytest.mark.parametrize(
    ("params", "status", "named"),
    [
        ({"ab": "barista:coffee", "c": "nosuchword"}, 404, "'nosuchword'"),
        ({"ab": "barista:coffee", "d": "nosuchword"}, 404, "'nosuchword'"),
        ({"ab": "barista:coffee"}, 400, "exactly one of c"),
        ({"ab": "barista:coffee", "c": "baker", "d": "bread"}, 400, "exactly one of c"),
        ({"ab": "barista", "c": "baker"}, 400, "'barista'"),
        ({"ab": "barista:?", "c": "baker"}, 400, "'barista:?'"),
        ({"ab": "barista:coffee", "c": "baker", "k": 0}, 422, "k='0'"),
        ({"c": "baker"}, 422, "'ab' is required"),
    ],
)
def test_bad_analogy_is_a_4xx_naming_the_value(client, params, status, named):
    assert named in error(client.get("/analogy", params=params), status)


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"pairs": []}, 422, "pairs=[]"),
        ({"pairs": ["barista:coffee"] * (MAX_BATCH + 1)}, 422, "pairs="),
        ({"pairs": ["barista:coffee", "nocolon"]}, 400, "'nocolon'"),
        ({"pairs": ["barista:coffee"], "k": 1000}, 422, "k=1000"),
        ({"pairs": [42]}, 422, "pairs.0=42"),
        ({"pairs": "barista:coffee"}, 422, "pairs='barista:coffee'"),
        ({"pairs": ["barista:coffee"], "path": "/etc/passwd"}, 422, "path="),
        ({"k": 3}, 422, "'pairs' is required"),
    ],
)
def test_bad_batch_is_a_4xx_naming_the_value(client, body, status, named):
    assert named in error(client.post("/query", json=body), status)


def test_body_that_is_not_json(client):
    response = client.post("/query", content=b"{not json", headers={"content-type": "application/json"})
    assert "not valid JSON" in error(response, 422)


def test_body_too_large_is_413(client):
    big = json.dumps({"pairs": ["barista:coffee"], "pad": "x" * MAX_BODY_BYTES}).encode()
    assert "larger than" in error(
        client.post("/query", content=big, headers={"content-type": "application/json"}), 413
    )

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    response = client.post("/query", content=chunks(), headers={"content-type": "application/json"})
    assert "larger than" in error(response, 413)


def test_bad_projection(client):
    assert "'nocolon'" in error(client.post("/projection", json={"pairs": ["nocolon"]}), 400)
    too_many = {"pairs": ["barista:coffee"] * (MAX_K + 2)}
    assert "pairs=" in error(client.post("/projection", json=too_many), 422)


def test_unknown_path_and_method(client):
    assert "'/nosuch'" in error(client.get("/nosuch"), 404)
    assert "DELETE" in error(client.delete("/query"), 405)


def test_server_keeps_answering_after_bad_requests(client):
    for _ in range(20):
        client.get("/query", params={"pair": "broken"})
        client.post("/query", content=b"[", headers={"content-type": "application/json"})
    assert client.get("/query", params={"pair": "barista:coffee", "k": 1}).status_code == 200
