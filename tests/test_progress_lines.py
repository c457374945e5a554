"""Progress on a stderr that is not a terminal (a log file): plain lines at each tenth of the work."""

from __future__ import annotations

import re

from relsearch.progress import progress_bar, rate_text


def test_a_log_gets_one_line_per_tenth_with_rate_and_eta(capsys):
    with progress_bar(200, "epoch 1/3", enabled=True) as advance:
        for _ in range(100):
            advance(2)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("epoch 1/3: 20/200 (10%), ") and "ETA" in lines[0]
    assert re.fullmatch(r"epoch 1/3: 200/200 \(100%\), [\d,]+/s", lines[-1])  # no ETA when done


def test_a_large_step_writes_one_line_and_a_disabled_bar_writes_none(capsys):
    with progress_bar(1000, "exporting x", enabled=True) as advance:
        advance(350)
        advance(650)
    lines = capsys.readouterr().err.splitlines()
    assert [re.match(r"exporting x: ([\d,]+)/1,000 ", line).group(1) for line in lines] == ["350", "1,000"]
    with progress_bar(1000, "quiet", enabled=False) as advance:
        advance(1000)
    assert capsys.readouterr().err == ""


def test_slow_work_reads_per_minute_instead_of_zero_per_second():
    # an MLP search trains one model in tens of seconds: "0/s" says nothing
    assert rate_text(1 / 30) == "2.0/min"
    assert rate_text(3.46) == "3.5/s"
    assert rate_text(1234.4) == "1,234/s"
