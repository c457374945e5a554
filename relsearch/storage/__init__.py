"""The index directory on disk: one module per file, each writing and reading it.

```
my-index/
  relsearch.json        manifest.py: written last and atomically (its existence = a complete index);
                        records each file's size and xxh3-128 checksum
  pairs.parquet         pairs_parquet.py: id (= FAISS id = row number), head, tail, metadata
                        columns; relsearch metadata stamped in the schema under b"relsearch"
  index.faiss           faiss_file.py: plain faiss.write_index output, inner product, unit vectors
  embeddings/           shard_files.py: part-00000.npy ... normalised float16 rows in id order,
                        shard k holding ids [k * shard_size, (k + 1) * shard_size);
                        checkpoint.py: checkpoint.json while a build or an update runs
  word_vectors.parquet  word_vectors_file.py: optional (hybrid encoders), word + float32 vector
  verified.json         verify_record.py: the outcome of the last ``relsearch verify``
  .relsearch.lock       lock.py: held (flock) by the one process that writes the directory
```

``layout.py`` names the files, ``atomic.py`` is the one atomic-write helper and
``checksums.py`` the one hash. The builder (``index_builder``) and the query side
(``relsearch.index``) both read and write through these modules.
"""
