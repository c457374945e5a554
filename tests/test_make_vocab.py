"""data/make_vocab.py: the header states what the file holds, also when fewer words exist than asked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("wordfreq")  # the `vocab` extra, which install.sh installs

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RELSEARCH_SHARED") or ROOT.parent / "shared") / "data"
pytestmark = pytest.mark.skipif(
    not (SHARED / "lexical_relation_classification").is_dir(),
    reason=f"the relation data sets the vocabulary is filtered by are not in {SHARED}",
)


def make(tmp_path: Path, size: int) -> tuple[list[str], list[str], str]:
    out = tmp_path / f"vocab{size}.txt"
    done = subprocess.run(
        [sys.executable, str(ROOT / "data" / "make_vocab.py"), str(size), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    return header, [line for line in lines if not line.startswith("#")], done.stderr


def counts(header: list[str]) -> tuple[int, int]:
    match = re.search(r"# (\d+) words: the (\d+) most frequent", "\n".join(header))
    assert match, header
    return int(match[1]), int(match[2])


def test_header_counts_match_the_words_written(tmp_path):
    header, words, stderr = make(tmp_path, 300)
    total, frequent = counts(header)
    assert total == len(words)
    assert frequent == 300  # enough content words exist: the size asked for is met
    assert total > frequent  # the paper's examples and the gold-pair words come on top
    assert "note:" not in stderr


def test_header_never_claims_more_words_than_exist(tmp_path):
    header, words, stderr = make(tmp_path, 100_000)
    total, frequent = counts(header)
    assert total == len(words)
    assert frequent < 100_000
    assert frequent < total
    assert f"only {frequent} of the 100000 words asked for" in stderr
