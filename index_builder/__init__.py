"""Building relsearch indexes: candidate pairs, resumable sharded encoding, FAISS + Parquet.

``index_builder.build.build_index`` is the entry point; ``relsearch build-index`` wraps it.
"""
