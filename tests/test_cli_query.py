"""CLI: query, analogy, info — JSON schema, tables, and one clear line for every bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from index_fixtures import *  # noqa: F403  (fixtures)
from index_fixtures import NO_HEAD
from typer.testing import CliRunner

from relsearch.cli.app import app
from relsearch.index.format import MANIFEST_FILE

runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str, code: int = 1) -> str:
    """Run a command that must fail with one error line on stderr and no traceback."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if code == 1:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return result.stderr


def test_query_json_schema(tiny_index):
    hits = json.loads(ok("query", "barista:coffee", "-i", str(tiny_index), "-k", "7", "--json"))
    assert [h["rank"] for h in hits] == list(range(1, 8))
    for hit in hits:
        assert set(hit) == {"rank", "id", "head", "tail", "score", "source", "weight"}
        assert isinstance(hit["score"], float) and isinstance(hit["id"], int)
        assert {hit["head"], hit["tail"]}.isdisjoint({"barista", "coffee"})
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_query_filters_and_overlap_flags(tiny_index):
    hits = json.loads(ok("query", "barista:coffee", "-i", str(tiny_index), "--head", "king", "--json"))
    assert {h["head"] for h in hits} == {"king"} and len(hits) == 10
    hits = json.loads(
        ok("query", "barista:coffee", "-i", str(tiny_index), "--allow-overlap", "-k", "1", "--json")
    )
    assert (hits[0]["head"], hits[0]["tail"]) == ("barista", "coffee")
    assert "no pair in the index has the tail 'nosuch'" in fails(
        "query", "barista:coffee", "-i", str(tiny_index), "--tail", "nosuch"
    )


def test_query_table(tiny_index):
    out = ok("query", "barista:coffee", "-i", str(tiny_index), "-k", "3")
    assert "pairs like barista:coffee" in out and "score" in out
    assert len([line for line in out.splitlines() if line.startswith("│")]) == 3


def test_query_from_file_json_lines(tiny_index, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("# comment\nbarista:coffee\n\ndog\tpuppy\n", encoding="utf-8")
    out = ok("query", "--from-file", str(queries), "-i", str(tiny_index), "-k", "2", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["query"] for line in lines] == ["barista:coffee", "dog:puppy"]
    assert all(len(line["hits"]) == 2 for line in lines)


def test_query_new_pair_says_it_encodes(tiny_index):
    result = runner.invoke(app, ["query", f"{NO_HEAD}:milk", "-i", str(tiny_index), "-k", "2", "--json"])
    assert result.exit_code == 0 and "not in the index" in result.stderr
    assert len(json.loads(result.stdout)) == 2


def test_analogy_lookup_json(tiny_index):
    hits = json.loads(ok("analogy", "barista:coffee", "baker:?", "-i", str(tiny_index), "-k", "3", "--json"))
    assert len(hits) == 3 and all(h["head"] == "baker" and h["answer"] == h["tail"] for h in hits)
    hits = json.loads(ok("analogy", "barista:coffee", "?:bread", "-i", str(tiny_index), "-k", "3", "--json"))
    assert all(h["tail"] == "bread" and h["answer"] == h["head"] for h in hits)


def test_analogy_on_the_fly_says_so(tiny_index):
    args = ["analogy", "barista:coffee", f"{NO_HEAD}:?", "-i", str(tiny_index), "-k", "2", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "on the fly" in result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and all(h["head"] == NO_HEAD and h["id"] is None for h in hits)


def test_analogy_table(tiny_index):
    out = ok("analogy", "barista:coffee", "baker:?", "-i", str(tiny_index), "-k", "2")
    assert "barista:coffee :: baker:?" in out and "answer" in out


def test_choices(tiny_model_dir):
    args = [
        "analogy",
        "barista:coffee",
        "--choices",
        "baker:bread, king:queen,dog:puppy",
        "-m",
        str(tiny_model_dir),
    ]
    hits = json.loads(ok(*args, "--json"))
    assert sorted(h["choice"] for h in hits) == [0, 1, 2] and [h["rank"] for h in hits] == [1, 2, 3]
    assert {(h["head"], h["tail"]) for h in hits} == {("baker", "bread"), ("king", "queen"), ("dog", "puppy")}
    assert "most like" in ok(*args)


def test_info(tiny_index):
    out = ok("info", "-i", str(tiny_index))
    assert "441 pairs over 22 words" in out and "Flat" in out and "fingerprint" in out
    data = json.loads(ok("info", "-i", str(tiny_index), "--json"))
    assert data["manifest"]["counts"]["pairs"] == 441 and data["disk_bytes"]["total"] > 0


def test_table_prints_metadata_literally(tiny_index, tmp_path):
    from index_factory import write_index

    from relsearch import RelationIndex

    index = RelationIndex.load(tiny_index)
    pairs = index.table.pairs(range(len(index)))
    vectors = index.stored.get(range(len(index)))
    meta = {"note": ["[red]x[/red]"] * len(pairs)}
    path = write_index(tmp_path / "idx", pairs, vectors, index.manifest["encoder"], metadata=meta)
    assert "[red]x[/red]" in ok("query", "barista:coffee", "-i", str(path), "-k", "2")


# -- bad input: one line, exit 1 ------------------------------------------------------------------------


def test_k_above_the_index_size_is_clamped(tiny_index):
    result = runner.invoke(app, ["query", "barista:coffee", "-k", "1000", "-i", str(tiny_index), "--json"])
    assert result.exit_code == 0, result.output
    assert "the index holds only 441 pair(s): showing at most 441" in result.stderr
    assert 0 < len(json.loads(result.stdout)) <= 441


@pytest.mark.parametrize(
    "args, message",
    [
        (["query", "baristacoffee"], "no separator"),
        (["query", "barista:coffee", "-k", "0"], "at least 1"),
        (["query", "barista:coffee", "-k", "-2"], "at least 1"),
        (["query", "barista:coffee", "--head", "a<mask>"], "placeholder"),
        (["analogy", "barista:coffee", "?:?"], "both sides unknown"),
        (["analogy", "barista:coffee", "baker:bread"], "no unknown side"),
        (["analogy", "barista:coffee", "baker:?", "-k", "0"], "at least 1"),
        (["analogy", "barista:coffee", "--choices", "a:b"], "at least two"),
        (["analogy", "barista:coffee", "--choices", "a:b,cd"], "no separator"),
    ],
)
def test_bad_input(tiny_index, args, message):
    assert message in fails(*args, "-i", str(tiny_index))


def test_empty_and_missing_query_files(tiny_index, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n", encoding="utf-8")
    assert "holds no pairs" in fails("query", "--from-file", str(empty), "-i", str(tiny_index))
    assert "does not exist" in fails("query", "--from-file", str(tmp_path / "nope"), "-i", str(tiny_index))
    bad = tmp_path / "bad.txt"
    bad.write_text("a:b\nnocolon\n", encoding="utf-8")
    assert "bad.txt:2" in fails("query", "--from-file", str(bad), "-i", str(tiny_index))


def test_bad_index_directories(tiny_index, tmp_path):
    assert "no index at" in fails("query", "a:b", "-i", str(tmp_path / "nope"))
    assert "no index at" in fails("info", "-i", str(tmp_path / "nope"))
    incomplete = tmp_path / "incomplete"
    (incomplete / "embeddings").mkdir(parents=True)
    (incomplete / "embeddings" / "checkpoint.json").write_text("{}")
    assert "incomplete" in fails("query", "a:b", "-i", str(incomplete))
    assert "incomplete" in fails("analogy", "a:b", "c:?", "-i", str(incomplete))
    newer = tmp_path / "newer"
    shutil.copytree(tiny_index, newer)
    manifest = json.loads((newer / MANIFEST_FILE).read_text())
    manifest["format_version"] = 2
    (newer / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert "upgrade relsearch" in fails("query", "a:b", "-i", str(newer))
    assert "upgrade relsearch" in fails("info", "-i", str(newer))


def test_missing_model_is_one_line(tiny_index, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(tiny_index, moved)
    manifest = json.loads((moved / MANIFEST_FILE).read_text())
    manifest["encoder"]["model"] = str(tmp_path / "gone")
    (moved / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert len(json.loads(ok("query", "barista:coffee", "-i", str(moved), "--json"))) == 10
    message = fails("query", "kitten:milk", "-i", str(moved))
    assert "gone" in message and "--model" in message
    message = fails("analogy", "barista:coffee", f"{NO_HEAD}:?", "-i", str(moved))
    assert "gone" in message


def test_usage_errors_exit_2(tiny_index):
    fails("query", "-i", str(tiny_index), code=2)
    fails("analogy", "barista:coffee", "-i", str(tiny_index), code=2)
    fails("analogy", "barista:coffee", "baker:?", "--choices", "a:b,c:d", code=2)
    fails("query", "a:b", "-k", "many", code=2)
