"""The server answers indexed pairs without importing torch; the first new pair loads the model."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from index_fixtures import *  # noqa: F403  (fixtures)
from index_fixtures import NO_HEAD
from json_subprocess import run_json_script

SCRIPT = """
import json, sys
from fastapi.testclient import TestClient
from relsearch.cli.app import app
from relsearch.index.relation_index import RelationIndex
from relsearch.server.app import create_app

client = TestClient(create_app(RelationIndex.load(sys.argv[1])))
def ok(response):
    assert response.status_code == 200, response.text
    return response.json()
assert client.get("/").status_code == 200
ok(client.get("/query", params={"pair": "barista:coffee", "head": "king"}))
ok(client.post("/query", json={"pairs": ["barista:coffee", "dog:puppy"], "k": 3}))
ok(client.get("/analogy", params={"ab": "barista:coffee", "c": "baker"}))
ok(client.post("/projection", json={"pairs": ["barista:coffee", "baker:bread", "dog:puppy"]}))
ok(client.get("/info"))
before = ok(client.get("/health"))["model_loaded"]
state = {"torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules, "loaded": before}
if len(sys.argv) > 2:
    ok(client.get("/query", params={"pair": sys.argv[2]}))
    state = {"torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules,
             "loaded": ok(client.get("/health"))["model_loaded"]}
print(json.dumps(state))
"""


def run(*args: str) -> dict[str, bool]:
    return run_json_script(SCRIPT, *args)


def test_indexed_pairs_never_import_torch(tiny_index):
    assert run(str(tiny_index)) == {"torch": False, "transformers": False, "loaded": False}


def test_a_new_pair_loads_the_model(tiny_index):
    """The control: the same requests plus a pair the index lacks import torch and load the model."""
    assert run(str(tiny_index), f"{NO_HEAD}:milk") == {"torch": True, "transformers": True, "loaded": True}
