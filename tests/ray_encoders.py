"""Encoder factories for the Ray engine tests, importable by path inside Ray workers."""

from __future__ import annotations

import os
from typing import Any

from fake_encoder import FakeEncoder


def other_model_in_workers(driver_pid: int, **kwargs: Any) -> FakeEncoder:
    """The fake encoder in the driver, a different one (another fingerprint) in any other process."""
    return FakeEncoder(seed=0 if os.getpid() == driver_pid else 1, **kwargs)
