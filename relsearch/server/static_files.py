"""The search page's files, read from the package once at start-up and served from memory.

Requests name a file only by a key of :data:`FILES`, so no request value reaches the filesystem.
"""

from __future__ import annotations

from importlib import resources

#: Served name -> media type. The page has no other files: no CDN, no build step.
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


def load_static() -> dict[str, tuple[bytes, str]]:
    """``{name: (content, media type)}`` for every file of :data:`FILES`."""
    folder = resources.files("relsearch.server").joinpath("static")
    return {name: (folder.joinpath(name).read_bytes(), media) for name, media in FILES.items()}
