"""``relsearch export``: an index's pair vectors in formats other tools read.

- :mod:`relsearch.export.word2vec`: word2vec text or binary, keyed ``head__tail`` (gensim's
  ``KeyedVectors.load_word2vec_format``)
- :mod:`relsearch.export.parquet`: a Parquet table ``head, tail, vector`` (pandas, pyarrow, duckdb)

Both read the index's stored vectors (unit norm, float32) in id order, a chunk at a time, and
write through a temp file renamed into place, so ``OUT`` is complete or absent.
"""
