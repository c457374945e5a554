"""Fault hooks that tests pass to the builder (``after_shard=``): production code has none of its own."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable


class SimulatedCrash(RuntimeError):
    """Raised by ``crash_after``."""


def crash_after(shard: int) -> Callable[[int], None]:
    """Raise ``SimulatedCrash`` once shard ``shard`` is written and recorded."""

    def hook(k: int) -> None:
        if k == shard:
            raise SimulatedCrash(f"simulated crash after shard {shard}")

    return hook


def crash_at_first() -> Callable[[int], None]:
    """Raise ``SimulatedCrash`` once the first shard (whichever finishes first) is recorded."""

    def hook(k: int) -> None:
        raise SimulatedCrash(f"simulated crash after shard {k}, the first one recorded")

    return hook


def interrupt_after(shard: int) -> Callable[[int], None]:
    """Raise ``KeyboardInterrupt`` (Ctrl-C) once shard ``shard`` is written and recorded."""

    def hook(k: int) -> None:
        if k == shard:
            raise KeyboardInterrupt

    return hook


def kill_after(shard: int) -> Callable[[int], None]:
    """SIGKILL this process once shard ``shard`` is written and recorded (kill -9)."""

    def hook(k: int) -> None:
        if k == shard:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def run_cli_killed_after(shard: int, args: list[str]) -> None:
    """Run ``relsearch ARGS`` with builds and updates killed -9 after ``shard``."""
    import importlib

    from relsearch.cli.app import app

    targets = [("index_builder.build", "build_index")]
    targets += [("index_builder.update", "add_pairs"), ("index_builder.update", "remove_pairs")]
    for module_name, name in targets:
        module = importlib.import_module(module_name)
        setattr(module, name, functools.partial(getattr(module, name), after_shard=kill_after(shard)))
    sys.argv = ["relsearch", *args]
    app()


if __name__ == "__main__":  # python tests/crash_hooks.py SHARD relsearch-args...
    run_cli_killed_after(int(sys.argv[1]), sys.argv[2:])
