"""The on-disk relsearch index (manifest, Parquet metadata, FAISS index, float16 shards)."""
