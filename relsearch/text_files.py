"""Reading small UTF-8 input files with errors that name the file."""

from __future__ import annotations

from pathlib import Path

from relsearch.errors import DataFormatError


def read_lines(path: Path, what: str) -> list[str]:
    """Lines of the UTF-8 text file ``path``; ``what`` names it in errors ("analogy file")."""
    if not path.is_file():
        raise DataFormatError(f"{what} {str(path)!r} does not exist")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not UTF-8 ({exc})") from exc
