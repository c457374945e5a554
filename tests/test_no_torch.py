"""Loading an index and searching pairs it holds never imports torch (checked in a fresh interpreter)."""

from __future__ import annotations

from index_fixtures import *  # noqa: F403  (fixtures)
from json_subprocess import run_json_script

SCRIPT = """
import json, sys
from relsearch import Hit, RelationIndex
from relsearch.cli.app import app

index = RelationIndex.load(sys.argv[1], mmap=True)
hits = index.search("barista:coffee", k=3)
index.search("barista:coffee", k=3, head="king")
index.search_batch(["barista:coffee", "dog:puppy"], k=2)
index.analogy("barista:coffee", c="baker", k=2)
index.vector("king:queen")
try:
    app(["query", "barista:coffee", "-i", sys.argv[1], "--json"], standalone_mode=False)
    app(["analogy", "barista:coffee", "?:bread", "-i", sys.argv[1], "--json"], standalone_mode=False)
    app(["info", "-i", sys.argv[1]], standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
if len(sys.argv) > 2:
    index.search(sys.argv[2], k=3)
print(json.dumps({"torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules}))
"""


def run(*args: str) -> dict[str, bool]:
    return run_json_script(SCRIPT, *args)


def test_stored_vector_path_does_not_import_torch(tiny_index):
    assert run(str(tiny_index)) == {"torch": False, "transformers": False}


def test_new_pair_does_load_the_model(tiny_index):
    """The control: the same script with a pair the index lacks does import torch."""
    assert run(str(tiny_index), "kitten:milk") == {"torch": True, "transformers": True}
