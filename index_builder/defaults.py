"""Build defaults, shared by ``build_index`` and the CLI (no heavy imports here)."""

DEFAULT_K = 10
DEFAULT_SHARD_SIZE = 4096
DEFAULT_BATCH_SIZE = 64
DEFAULT_MEMORY_BUDGET = "8G"
ENGINES = ("local", "ray")
