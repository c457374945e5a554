"""RelationIndex.build delegates to the builder (runs once index_builder.build exists on the branch)."""

from __future__ import annotations

import importlib.util

import pytest
from index_fixtures import *  # noqa: F403  (fixtures)

from relsearch import RelationIndex


def builder_present() -> bool:
    try:
        return importlib.util.find_spec("index_builder.build") is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(not builder_present(), reason="index_builder.build is not on this branch yet")
def test_build_then_search(tmp_path, tiny_model_dir):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("barista\tcoffee\nbaker\tbread\nbrewer\tbeer\nking\tqueen\n", encoding="utf-8")
    index = RelationIndex.build(tmp_path / "idx", pairs=pairs, model=str(tiny_model_dir))
    assert len(index) == 4 and ("baker", "bread") in index
    hits = index.search("barista:coffee", k=3)
    assert len(hits) == 3 and ("barista", "coffee") not in [h.pair for h in hits]
    assert len(index.search("kitten:milk", k=2)) == 2  # the recorded model reloads with the same fingerprint
