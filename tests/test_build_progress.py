"""Build progress: plain lines per shard when stderr is not a terminal, the rich bar when it is."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAIRS = "".join(f"h{i}\tt{i % 13}\n" for i in range(40))


@pytest.fixture
def command(tmp_path) -> list[str]:
    """``relsearch build-index`` of 40 pairs (each test adds the model and the shard size)."""
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(PAIRS)
    out = tmp_path / "idx"
    return [sys.executable, "-m", "relsearch", "build-index", "--pairs", str(pairs), "--out", str(out)]


def test_without_a_terminal_each_shard_prints_one_line(command, tiny_model_dir, tmp_path):
    log = tmp_path / "build.log"
    with open(log, "w") as stderr:
        done = subprocess.run(
            [*command, "-m", str(tiny_model_dir), "--shard-size", "10"], cwd=ROOT, stderr=stderr, timeout=300
        )
    assert done.returncode == 0, log.read_text()
    lines = [line for line in log.read_text().splitlines() if line.startswith("encoding: ")]
    assert len(lines) == 4
    pattern = r"encoding: shard (\d)/4, ([\d,]+)/40 pairs, [\d,]+ pairs/s, ETA \d+ min \d\d s"
    assert [re.fullmatch(pattern, line).groups() for line in lines] == [  # type: ignore[union-attr]
        ("1", "10"),
        ("2", "20"),
        ("3", "30"),
        ("4", "40"),
    ]


def test_on_a_terminal_the_bar_is_drawn_instead(command, tiny_model_dir):
    main, child = pty.openpty()
    try:
        done = subprocess.run(
            [*command, "-m", str(tiny_model_dir), "--shard-size", "10"],
            cwd=ROOT,
            stderr=child,
            stdout=subprocess.DEVNULL,
            timeout=300,
        )
        os.close(child)
        chunks = []
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(main)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert done.returncode == 0, text
    assert "shard 4/4" in text and "encoding: shard" not in text
