"""Run a Python snippet in a fresh interpreter (this checkout on the path) and read its last JSON line.

The no-torch tests need a new process: ``sys.modules`` of the test process already holds torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_json_script(script: str, *args: str) -> Any:
    """Exit status 0 (else the assertion shows stderr) and the JSON of the last stdout line."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
