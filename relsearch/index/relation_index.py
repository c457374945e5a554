"""``RelationIndex``: load an index directory and search it by relational similarity.

Loading an index and searching pairs it already holds uses their stored vectors and never
imports torch; the index's own encoder (rebuilt from the manifest) is loaded only when a pair
that is not in the index has to be encoded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from relsearch.errors import DamagedFileError, IndexFormatError, RelsearchError
from relsearch.index import analogy_search
from relsearch.index.faiss_search import FilteredSearch
from relsearch.index.filters import IdFilter
from relsearch.index.hit import Hit
from relsearch.index.index_encoder import load_index_encoder
from relsearch.index.pair_table import PairTable
from relsearch.index.stored_vectors import StoredVectors
from relsearch.pairs import Pair, PairLike, parse_pair, validate_word
from relsearch.storage.faiss_file import apply_search_params, read_faiss_index
from relsearch.storage.layout import (
    EMBEDDINGS_DIR,
    FAISS_FILE,
    PAIRS_FILE,
    WORD_VECTORS_FILE,
    default_index_dir,
)
from relsearch.storage.manifest import IndexPaths, file_records, read_manifest
from relsearch.storage.word_vectors_file import read_word_vectors

if TYPE_CHECKING:
    from relsearch.encoding import RelationEncoder

log = logging.getLogger("relsearch")

Query = PairLike | np.ndarray


def _require(manifest: dict[str, Any], path: Path, *keys: str) -> Any:
    value: Any = manifest
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise IndexFormatError(f"the manifest of {str(path)!r} lacks {'.'.join(keys)}; rebuild the index")
        value = value[key]
    return value


def check_k(k: int, n: int) -> None:
    """``k`` must be between 1 and the number of pairs in the index."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise RelsearchError(f"k must be a whole number of at least 1, got {k!r}")
    if k > n:
        raise RelsearchError(f"k={k} is larger than the index, which holds {n} pairs; use k <= {n}")


class RelationIndex:
    """A relsearch index directory, loaded for search.

    >>> from relsearch import RelationIndex                      # doctest: +SKIP
    >>> index = RelationIndex.load("relsearch-index")            # doctest: +SKIP
    >>> [(h.head, h.tail) for h in index.search("barista:coffee", k=3)]  # doctest: +SKIP
    [('baker', 'bread'), ('brewer', 'beer'), ('winemaker', 'wine')]
    """

    def __init__(
        self,
        path: Path,
        manifest: dict[str, Any],
        table: PairTable,
        faiss_index: Any,
        stored: StoredVectors,
        model: str | None = None,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.table = table
        self.faiss_index = faiss_index
        self.stored = stored
        self._model_override = model
        self._encoder: RelationEncoder | None = None
        self._search = FilteredSearch(faiss_index, stored)

    # -- loading and building ----------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        mmap: bool = False,
        model: str | None = None,
        verify: bool = True,
    ) -> RelationIndex:
        """Open the index at ``path`` (default ``$RELSEARCH_INDEX`` or ``./relsearch-index``).

        ``mmap=True`` memory-maps the FAISS index (where its type allows) and the embedding
        shards instead of reading them into memory. ``model`` says where the index's model is, if
        not where its manifest recorded (it must be the same model: the fingerprints are compared).
        Every file is checked against the manifest's size and checksum when it is first read;
        ``verify=False`` skips hashing ``index.faiss`` (sizes are still checked, and the other
        files are hashed as they are read). A damaged file raises ``DamagedFileError``.

        >>> index = RelationIndex.load("relsearch-index", mmap=True)  # doctest: +SKIP
        >>> len(index), ("barista", "coffee") in index                # doctest: +SKIP
        (1000000, True)
        """
        path = Path(path) if path is not None else default_index_dir()
        manifest = read_manifest(path)
        dim = int(_require(manifest, path, "encoder", "dim"))
        for key in ("model", "fingerprint"):
            _require(manifest, path, "encoder", key)
        n = int(_require(manifest, path, "counts", "pairs"))
        shard_size = int(_require(manifest, path, "shard_size"))
        records = file_records(manifest)
        paths = IndexPaths.from_manifest(manifest)
        table = PairTable.read(path / paths.pairs, record=records.get(paths.pairs))
        try:
            index = read_faiss_index(path / paths.faiss, records.get(paths.faiss), mmap=mmap, verify=verify)
        except DamagedFileError as exc:
            raise exc.at(path) from None
        if not (len(table) == index.ntotal == n) or index.d != dim:
            raise IndexFormatError(
                f"the index at {str(path)!r} is inconsistent: manifest {n} pairs of dim {dim}, "
                f"{PAIRS_FILE} {len(table)} rows, {FAISS_FILE} {index.ntotal} vectors of dim {index.d}; "
                "rebuild it"
            )
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexFormatError(f"{path / FAISS_FILE} does not use inner product; rebuild the index")
        apply_search_params(index, (manifest.get("faiss") or {}).get("search_params") or {}, str(path))
        if not (path / EMBEDDINGS_DIR).is_dir():
            raise IndexFormatError(f"the index at {str(path)!r} lacks {EMBEDDINGS_DIR}/; rebuild it")
        if paths.word_vectors and not (path / paths.word_vectors).is_file():
            raise DamagedFileError(paths.word_vectors, "is missing", str(path))
        stored = StoredVectors(
            path, n=n, dim=dim, shard_size=shard_size, mmap=mmap, records=records, names=paths.shards
        )
        return cls(path, manifest, table, index, stored, model=model)

    @classmethod
    def build(
        cls,
        out_dir: str | os.PathLike[str],
        *,
        vocab: str | os.PathLike[str] | Sequence[str] | None = None,
        pairs: str | os.PathLike[str] | Sequence[PairLike] | None = None,
        model: str | None = None,
        encoder: RelationEncoder | None = None,
        k: int = 10,
        all_pairs: bool = False,
        mmap: bool = False,
        **options: Any,
    ) -> RelationIndex:
        """Build an index (as ``relsearch build-index`` does) and load it.

        ``vocab``: words (a file or a list) to draw candidate pairs from, ``k`` nearest words each
        (or every ordered pair with ``all_pairs``); ``pairs``: explicit pairs instead. Other
        options (``shard_size``, ``batch_size``, ``memory_budget``, ``index_key``, ``engine``,
        ``dtype``, ``word_model``, ``overwrite``, ``progress``) are passed to
        ``index_builder.build.build_index``.

        >>> index = RelationIndex.build("my-index", vocab=["king", "queen", "man", "woman"],
        ...                             all_pairs=True)                # doctest: +SKIP
        >>> len(index)                                                 # doctest: +SKIP
        12
        """
        from index_builder.build import build_index

        build_index(
            out_dir,
            vocab=vocab,
            pairs=pairs,
            model=model,
            encoder=encoder,
            k=k,
            all_pairs=all_pairs,
            **options,
        )
        return cls.load(out_dir, mmap=mmap)

    # -- updates ------------------------------------------------------------------------------------
    def add(
        self,
        pairs: str | os.PathLike[str] | Sequence[PairLike] | None = None,
        *,
        vocab: str | os.PathLike[str] | Sequence[str] | None = None,
        encoder: Any = None,
        progress: bool = False,
        **options: Any,
    ) -> Any:
        """Add pairs (as ``relsearch add`` does) and reload; return the ``UpdateReport``.

        Only the pairs the index lacks are encoded (with the index's own encoder unless
        ``encoder``, of the same fingerprint, is given); the others are counted as skipped.

        >>> report = index.add(["tea:teapot", "barista:coffee"])   # doctest: +SKIP
        >>> report.changed, report.skipped                         # doctest: +SKIP
        (1, 1)
        """
        from index_builder.update import add_pairs

        report = add_pairs(
            self.path,
            pairs=pairs,
            vocab=vocab,
            encoder=encoder,
            model=self._model_override,
            progress=progress,
            **options,
        )
        self._reload()
        return report

    def remove(self, pairs: str | os.PathLike[str] | Sequence[PairLike], *, progress: bool = False) -> Any:
        """Remove pairs (as ``relsearch remove`` does) and reload; return the ``UpdateReport``.

        Ids are row numbers, so the pairs after the first removed one get new ids.

        >>> index.remove(["tea:teapot"]).changed                  # doctest: +SKIP
        1
        """
        from index_builder.update import remove_pairs

        report = remove_pairs(self.path, pairs=pairs, progress=progress)
        self._reload()
        return report

    def _reload(self) -> None:
        fresh = RelationIndex.load(self.path, model=self._model_override)
        encoder = self._encoder
        self.__dict__.update(fresh.__dict__)
        self._encoder = encoder  # the same model (same fingerprint): no need to load it again

    # -- what it holds --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, pair: object) -> bool:
        try:
            return self.table.pair_id(parse_pair(pair)) is not None  # type: ignore[arg-type]
        except RelsearchError:
            return False

    def __repr__(self) -> str:
        return f"RelationIndex({str(self.path)!r}, pairs={len(self)}, dim={self.dim}, faiss={self.factory!r})"

    @property
    def dim(self) -> int:
        return int(self.manifest["encoder"]["dim"])

    @property
    def model_name(self) -> str:
        """The model the index was built with, as its manifest records it."""
        return str(self.manifest["encoder"]["model"])

    @property
    def factory(self) -> str:
        return str((self.manifest.get("faiss") or {}).get("factory", "?"))

    @property
    def words(self) -> list[str]:
        """Every distinct head and tail in the index."""
        return self.table.words

    @property
    def metadata_columns(self) -> list[str]:
        return self.table.metadata_columns

    def pair_id(self, pair: PairLike) -> int | None:
        """The id of ``pair`` in the index, or None."""
        return self.table.pair_id(parse_pair(pair))

    # -- vectors ----------------------------------------------------------------------------------
    @property
    def encoder(self) -> RelationEncoder:
        """The index's own encoder (loaded on first use; imports torch)."""
        if self._encoder is None:
            encoder = load_index_encoder(self.manifest["encoder"], self.path, self._model_override)
            stored_words = self.manifest.get("word_vectors")
            if stored_words and encoder.word_weight:
                # the build's own word vectors (same fingerprint): new pairs of indexed words
                # then cost one forward pass, not two
                name = IndexPaths.from_manifest(self.manifest).word_vectors or WORD_VECTORS_FILE
                try:
                    words, vectors = read_word_vectors(
                        self.path / name, encoder.word_dim, file_records(self.manifest).get(name)
                    )
                except DamagedFileError as exc:
                    raise exc.at(self.path) from None
                encoder.add_word_vectors(words, vectors)
            self._encoder = encoder
        return self._encoder

    def vector(self, pair: PairLike) -> np.ndarray:
        """The unit relation vector of ``pair``: stored if indexed, else encoded with the index's model.

        >>> index.vector("barista:coffee").shape                      # doctest: +SKIP
        (768,)
        """
        return self.vectors([pair])[0]

    def vectors(self, pairs: Sequence[PairLike], *, progress: bool = False) -> np.ndarray:
        """Unit vectors ``(n, dim)`` of ``pairs``; the ones not in the index are encoded in one batch."""
        parsed = [parse_pair(p) for p in pairs]
        ids = [self.table.pair_id(p) for p in parsed]
        out = np.empty((len(parsed), self.dim), dtype=np.float32)
        known = [i for i, idx in enumerate(ids) if idx is not None]
        if known:
            out[known] = self.stored.get([ids[i] for i in known])
        new = [i for i, idx in enumerate(ids) if idx is None]
        if new:
            out[new] = self.encoder.encode([parsed[i] for i in new], show_progress_bar=progress)
        return out

    def _query_vector(self, query: np.ndarray) -> np.ndarray:
        vec = np.asarray(query, dtype=np.float32)
        if vec.shape != (self.dim,) or not np.all(np.isfinite(vec)) or not np.any(vec):
            raise RelsearchError(
                f"a query vector must be a finite non-zero array of shape ({self.dim},), "
                f"got shape {vec.shape}"
            )
        return vec / np.linalg.norm(vec)

    # -- search ----------------------------------------------------------------------------------
    def search(
        self,
        pair_or_vector: Query,
        k: int = 10,
        *,
        allow_overlap: bool = False,
        head: str | None = None,
        tail: str | None = None,
    ) -> list[Hit]:
        """The ``k`` indexed pairs most relationally similar to a pair (or a relation vector).

        By default the query pair and every pair sharing a word with it are left out
        (``allow_overlap=True`` keeps them). ``head``/``tail`` keep only pairs with that head/tail.
        Fewer than ``k`` hits come back only if fewer pairs pass the filters.

        >>> for hit in index.search("barista:coffee", k=2):          # doctest: +SKIP
        ...     print(hit.rank, hit.head, hit.tail, round(hit.score, 4))
        1 baker bread 0.9412
        2 brewer beer 0.9377
        """
        return self.search_batch([pair_or_vector], k, allow_overlap=allow_overlap, head=head, tail=tail)[0]

    def search_batch(
        self,
        queries: Sequence[Query] | np.ndarray,
        k: int = 10,
        *,
        allow_overlap: bool = False,
        head: str | None = None,
        tail: str | None = None,
    ) -> list[list[Hit]]:
        """:meth:`search` for many queries at once (new pairs are encoded in one batch).

        ``queries``: pairs, vectors, or a ``(q, dim)`` array.

        >>> batch = index.search_batch(["barista:coffee", "king:queen"], k=5)  # doctest: +SKIP
        >>> [len(hits) for hits in batch]                                # doctest: +SKIP
        [5, 5]
        """
        check_k(k, len(self))
        if isinstance(queries, np.ndarray) and queries.ndim == 2:
            queries = list(queries)
        pairs: list[Pair | None] = [None if isinstance(q, np.ndarray) else parse_pair(q) for q in queries]
        vectors = np.empty((len(pairs), self.dim), dtype=np.float32)
        as_pairs = [i for i, p in enumerate(pairs) if p is not None]
        if as_pairs:
            vectors[as_pairs] = self.vectors([pairs[i] for i in as_pairs])  # type: ignore[misc]
        for i, p in enumerate(pairs):
            if p is None:
                vectors[i] = self._query_vector(queries[i])  # type: ignore[arg-type]
        include = self._include(head, tail)
        filters = [
            IdFilter.make(include, None if p is None or allow_overlap else self.table.overlap_ids(p))
            for p in pairs
        ]
        results = self._search.search(vectors, k, filters)
        return [self._hits(ids, scores) for ids, scores in results]

    def _include(self, head: str | None, tail: str | None) -> np.ndarray | None:
        include = None
        if head is not None:
            include = self.table.ids_with_head(validate_word(head, role="head filter", original=head))
        if tail is not None:
            ids = self.table.ids_with_tail(validate_word(tail, role="tail filter", original=tail))
            include = ids if include is None else np.intersect1d(include, ids)
        return include

    def _hits(self, ids: np.ndarray, scores: np.ndarray) -> list[Hit]:
        rows = self.table.rows(ids)
        return [
            Hit(rank=r, id=int(i), head=h, tail=t, score=float(s), metadata=row)
            for r, (i, (h, t), s, row) in enumerate(
                zip(ids, self.table.pairs(ids), scores, rows, strict=True), 1
            )
        ]

    # -- analogies -------------------------------------------------------------------------------
    def has_answers(self, c: str | None = None, d: str | None = None) -> bool:
        """Whether the index holds a pair with head ``c`` (or tail ``d``) to answer by lookup."""
        ids = self.table.ids_with_head(c) if c is not None else self.table.ids_with_tail(d or "")
        return len(ids) > 0

    def analogy(
        self,
        a_b: PairLike,
        c: str | None = None,
        d: str | None = None,
        k: int = 10,
        *,
        progress: bool = False,
    ) -> list[Hit]:
        """Answer A:B :: C:? (give ``c``; the answers are the hits' tails) or A:B :: ?:D (give ``d``).

        The indexed pairs with head C (tail D) are ranked by similarity to A:B. If there are none,
        (C, w) for every word w of the index is encoded on the fly (``progress`` shows a bar) and
        those hits have ``id`` None. Answers equal to a word of the question are skipped.

        >>> [h.tail for h in index.analogy("barista:coffee", c="baker", k=2)]  # doctest: +SKIP
        ['bread', 'flour']
        """
        check_k(k, len(self))
        pair, c, d = analogy_search.check_question(a_b, c, d)
        query = self.vector(pair)
        ids = analogy_search.indexed_candidates(self.table, pair, c, d)
        if len(ids) or self.has_answers(c, d):
            best, scores = self.stored.top_k(query, ids, k)
            return self._hits(best, scores)
        candidates = analogy_search.on_the_fly_pairs(self.table, pair, c, d)
        log.info(
            "no indexed pair has %s; encoding %d candidate pairs",
            f"head {c!r}" if c else f"tail {d!r}",
            len(candidates),
        )
        vectors = self.encoder.encode(candidates, show_progress_bar=progress)
        empty: list[dict[str, Any]] = [{} for _ in candidates]
        return analogy_search.top_hits(vectors @ query, candidates, k, [None] * len(candidates), empty)
