"""``relsearch serve``: an HTTP API and a search page over one index (FastAPI; the ``serve`` extra).

``relsearch.server.app.create_app(RelationIndex.load(...))`` is the ASGI app. Nothing here imports
torch: the index's encoder loads on the first request with a pair the index lacks.
"""
