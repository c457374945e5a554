"""CLI: exit codes, --json, errors on stderr."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from relsearch import __version__
from relsearch.cli.app import app

runner = CliRunner()


def test_version_and_help():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "encode" in result.stdout


def test_encode_json(tiny_model_dir, tiny_encoder):
    result = runner.invoke(
        app, ["encode", "barista:coffee", "café:crème brûlée", "--model", str(tiny_model_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [(p["head"], p["tail"]) for p in payload] == [("barista", "coffee"), ("café", "crème brûlée")]
    vec = np.array(payload[0]["vector"])
    np.testing.assert_allclose(vec, tiny_encoder.encode("barista:coffee"), atol=1e-6)


def test_encode_table(tiny_model_dir):
    result = runner.invoke(app, ["encode", "barista:coffee", "baker:bread", "-m", str(tiny_model_dir)])
    assert result.exit_code == 0 and "cosine(barista:coffee, baker:bread)" in result.stdout


def test_bad_pair_exits_1_with_one_line(tiny_model_dir):
    result = runner.invoke(app, ["encode", "barista-coffee", "-m", str(tiny_model_dir)])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "no separator" in result.stderr
    assert "Traceback" not in result.output


def test_missing_model_exits_1(tmp_path):
    result = runner.invoke(app, ["encode", "a:b", "-m", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_usage_error_exits_2():
    assert runner.invoke(app, ["encode", "--no-such-option"]).exit_code == 2
    assert runner.invoke(app, ["encode", "a:b", "--dtype"]).exit_code == 2


def test_custom_separator(tiny_model_dir):
    result = runner.invoke(app, ["encode", "a|b:c", "--sep", "|", "-m", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["tail"] == "b:c"
