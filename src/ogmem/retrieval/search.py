"""Hybrid search: vector KNN + BM25 over index records, fused into one order per URI, rescored
by the directory summaries (hierarchical retrieval); each hit carries its relevance in [0, 1]
(retrieval/relevance.py), which ``min_score`` filters on."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from ogmem.core import errors
from ogmem.core.models import (
    ContextNode,
    ContextType,
    NodeStatus,
    RequestContext,
    SearchFilter,
    utcnow,
)
from ogmem.core.ports import Embedder, Store
from ogmem.core.storage import IndexStore, RecordHit, VectorIndex, best_first
from ogmem.index.query_vectors import QueryVectors
from ogmem.index.records import LEVELS
from ogmem.retrieval.decay import Decay
from ogmem.retrieval.keywords import keyword_terms
from ogmem.retrieval.neighbours import neighbour_bonus
from ogmem.retrieval.recall import RecallLog
from ogmem.retrieval.relevance import (
    SIMILARITY_MIDPOINT,
    KeywordMatcher,
    relevance,
    similarity_relevance,
)
from ogmem.retrieval.validity import Timeline, widened

RRF_K = 60
DIRECTORY_WEIGHT = 0.1
CANDIDATES_PER_RESULT = 10  # LoCoMo dev: R@50 +0.015 over 5, p50 +2 ms
MIN_CANDIDATES = 50
# searches that may send their keyword search at once (more wait their turn, never fail)
OVERLAP_THREADS = 8
POOL_PER_RESULT, POOL_EXTRA = 3, 10  # read first, for neighbours to meet (neighbours.py)
SEARCHABLE = (ContextType.MEMORY, ContextType.SKILL, ContextType.RESOURCE, ContextType.SESSION)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """``score``: relevance in [0, 1], comparable across queries; ``rank_score``: the fused
    score the hits are ordered by (comparable within one result list only)."""

    uri: str
    category: str
    abstract: str
    score: float
    level: int
    why: str
    context_type: ContextType = ContextType.MEMORY
    status: NodeStatus = NodeStatus.ACTIVE
    rank_score: float = 0.0
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    superseded: bool = False  # its validity ended by the moment asked (validity.py)


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    hits: list[SearchHit]
    took_ms: float
    candidates: int = 0
    # the nodes behind the hits, already read: compose and the evaluation need no second read
    nodes: dict[str, ContextNode] = field(default_factory=dict, repr=False)


@dataclass(slots=True)
class _Fused:
    score: float = 0.0
    level: int = 0
    # (retriever, rank, level) per retriever that found it: the "why" of a hit, written out
    # only for the hits returned (most fused URIs are not)
    ranks: list[tuple[str, int, int]] = field(default_factory=list)
    similarity: float | None = None  # the best cosine of its records, when vector search found one
    keyword: bool = False  # keyword search found one of its records
    neighbour: bool = False  # lifted by a neighbouring message (neighbours.py)
    relevance: float | None = None  # once computed (relevance.py)

    def why(self, *, directory: bool) -> str:
        reasons = [f"{name} #{rank} ({LEVELS[level]})" for name, rank, level in self.ranks]
        reasons += ["neighbour"] * self.neighbour + ["directory"] * directory
        return " + ".join(reasons)


def owner_spaces(ctx: RequestContext, scopes: Sequence[str] | None) -> tuple[str, ...]:
    """The owner spaces a request may read: its user's, and its agent's when it names one."""
    wanted = tuple(scopes) if scopes is not None else ("user", "agent")
    unknown = set(wanted) - {"user", "agent"}
    if unknown:
        raise errors.InvalidInput(f"unknown scope {sorted(unknown)[0]!r}; use 'user' or 'agent'")
    spaces = []
    if "user" in wanted:
        spaces.append(f"user:{ctx.user_id}")
    if "agent" in wanted and ctx.agent_id:
        spaces.append(f"agent:{ctx.agent_id}")
    return tuple(spaces)


def fuse(lists: dict[str, list[RecordHit]], k: int = RRF_K) -> dict[str, _Fused]:
    """Reciprocal rank fusion over URIs: each retriever ranks a URI by its best record (the
    other levels of the same node do not take ranks from other nodes). Hits of equal score
    take their ranks in (uri, level) order, not in the order a backend returned them (its
    record ids, the order the records were written in): the same memories rank the same
    however they were written, reindexed or copied."""
    per_uri: dict[str, _Fused] = {}
    for name, hits in lists.items():
        rank = 0
        seen: set[str] = set()
        vector = name == "vector"
        for hit in best_first(hits):
            uri = hit.uri
            if uri in seen:
                continue
            seen.add(uri)
            rank += 1
            fused = per_uri.get(uri)
            if fused is None:
                fused = per_uri[uri] = _Fused(level=hit.level)
            fused.score += 1.0 / (k + rank)
            fused.ranks.append((name, rank, hit.level))
            if vector:
                fused.similarity = hit.score  # the first is its best: hits come best first
            else:
                fused.keyword = True
    return per_uri


def _parent(uri: str) -> str:
    return uri.rsplit("/", 1)[0]


class Searcher:
    def __init__(
        self,
        store: Store,
        index: IndexStore,
        vectors: VectorIndex,
        embedder: Embedder,
        *,
        directory_weight: float = DIRECTORY_WEIGHT,
        recall: RecallLog | None = None,
        decay: Decay | None = None,
        overlap: bool = False,
    ) -> None:
        """``overlap``: the keyword search runs elsewhere (a database server), so it is sent on
        a helper thread while this one searches vectors (Backend.searches_in_server)."""
        self._store = store
        self._index = index
        self._vectors = vectors
        self._queries = QueryVectors(embedder)
        self._directory_weight = directory_weight
        self._recall = recall
        self._timeline = Timeline(index, decay)
        # where this embedder's related and unrelated pairs part (relevance.py)
        self._midpoint = float(getattr(embedder, "similarity_midpoint", SIMILARITY_MIDPOINT))
        self._helpers = (
            ThreadPoolExecutor(OVERLAP_THREADS, thread_name_prefix="ogmem-keywords")
            if overlap
            else None
        )

    def close(self) -> None:
        """Stop the helper threads (waiting for the keyword searches they run)."""
        if self._helpers is not None:
            self._helpers.shutdown()

    def search(
        self,
        query: str,
        ctx: RequestContext,
        *,
        categories: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
        limit: int = 10,
        include_archived: bool = False,
        include_sessions: bool = False,
        query_vector: npt.NDArray[np.float32] | None = None,
        as_of: datetime | None = None,
        min_score: float = 0.0,
    ) -> SearchResult:
        """``include_sessions``: also session archives (raw transcripts; left out by default,
        where they would repeat the memories drawn from them, and keep a forgotten memory's
        words). ``query_vector``: the query's embedding, for callers that already computed it.
        ``as_of``: what held then comes first (default: now; see validity.py).
        ``min_score``: leave out hits less relevant than this (0 to 1)."""
        if not query.strip():
            raise errors.InvalidInput("query is empty")
        if not 1 <= limit <= 1000:
            raise errors.InvalidInput("limit must be between 1 and 1000")
        check_min_score(min_score)
        started = time.perf_counter()
        search_filter = SearchFilter(
            owner_spaces=owner_spaces(ctx, scopes),
            categories=tuple(categories) if categories else None,
            context_types=tuple(
                t
                for t in (*SEARCHABLE, ContextType.DIRECTORY)
                if include_sessions or t is not ContextType.SESSION
            ),
            statuses=None if include_archived else (NodeStatus.ACTIVE,),
        )
        vector = self._queries.vector(query) if query_vector is None else query_vector
        terms = keyword_terms(query)
        fused = self._retrieve(terms, vector, ctx.account_id, search_filter, limit)
        wanted = _Wanted(KeywordMatcher(terms), widened(limit), min_score, asked=limit)
        hits, nodes = self._rank(ctx.account_id, fused, wanted)
        hits = self._timeline.arrange(
            ctx.account_id, hits, nodes, as_of=as_of, now=utcnow(), limit=limit
        )
        hits = [self._finished(hit, nodes[hit.uri], fused, wanted.keywords) for hit in hits]
        nodes = {h.uri: nodes[h.uri] for h in hits}
        if self._recall is not None:
            self._recall.record(ctx.account_id, query, [(h.uri, h.score) for h in hits])
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, hits, took, candidates=len(fused), nodes=nodes)

    def _retrieve(
        self,
        terms: list[str],
        vector: npt.NDArray[np.float32],
        account_id: str,
        search_filter: SearchFilter,
        limit: int,
    ) -> dict[str, _Fused]:
        depth = max(MIN_CANDIDATES, limit * CANDIDATES_PER_RESULT)
        keywords = functools.partial(
            self._index.keyword_search, account_id, terms, search_filter, depth
        )
        if self._helpers is None:
            # one after the other: in this process both compete for the same cores, and
            # running them side by side was measured slower (bench/search_bench.py)
            vector_hits = self._vectors.search(account_id, vector, search_filter, depth)
            return fuse({"vector": vector_hits, "bm25": keywords()})
        # the database server runs the keyword search while this thread searches vectors
        keyword_hits = self._helpers.submit(keywords)
        vector_hits = self._vectors.search(account_id, vector, search_filter, depth)
        return fuse({"vector": vector_hits, "bm25": keyword_hits.result()})

    def _rank(
        self, account_id: str, fused: dict[str, _Fused], wanted: _Wanted
    ) -> tuple[list[SearchHit], dict[str, ContextNode]]:
        """Add to each node's score a share of its directory summary's, then read the winners
        a page at a time until ``wanted.limit`` of them reach ``wanted.min_score``.

        A bonus, not a blend: a node whose directory was not retrieved keeps its own score.
        """
        scored: list[tuple[float, str, _Fused]] = []
        for uri, entry in fused.items():
            directory = fused.get(_parent(uri))
            bonus = self._directory_weight * directory.score if directory is not None else 0.0
            scored.append((entry.score + bonus, uri, entry))
        scored.sort(key=lambda item: (-item[0], item[1]))
        hits: list[SearchHit] = []
        kept: dict[str, ContextNode] = {}
        for number, page in enumerate(_pages(scored, wanted.asked)):
            # a node keyword search did not find has no keyword share: its similarity alone
            # tells whether it can reach min_score, before reading it
            candidates = [
                item for item in page
                if item[2].keyword or self._similarity(item[2]) >= wanted.min_score
            ]  # fmt: skip
            nodes = self._store.find_nodes(account_id, [uri for _, uri, _ in candidates])
            if number == 0:  # the front runners, read together, lift their neighbours
                candidates = _with_neighbours(candidates, nodes)
            for score, uri, entry in candidates:
                node = nodes.get(uri)
                if node is None or node.context_type is ContextType.DIRECTORY:
                    continue  # summaries steer the ranking but are not answers themselves
                if not self._reaches(node, entry, wanted):
                    continue
                hits.append(_unscored_hit(node, entry, score))
                kept[uri] = node
                if len(hits) == wanted.limit:
                    return hits, kept
        return hits, kept

    def _similarity(self, entry: _Fused) -> float:
        if entry.similarity is None:
            return 0.0
        return similarity_relevance(entry.similarity, self._midpoint)

    def _reaches(self, node: ContextNode, entry: _Fused, wanted: _Wanted) -> bool:
        """Whether the node's relevance reaches ``wanted.min_score``. Its keyword coverage
        (a pass of a regex over its text, the costly part) is read only when its similarity
        alone falls short: the relevance is never below that of the similarity alone."""
        if relevance(self._similarity(entry), 0.0) >= wanted.min_score:
            return True
        return self._relevance(node, entry, wanted.keywords) >= wanted.min_score

    def _relevance(self, node: ContextNode, entry: _Fused, keywords: KeywordMatcher) -> float:
        if entry.relevance is None:
            coverage = keywords.coverage(_text(node)) if entry.keyword else 0.0
            entry.relevance = relevance(self._similarity(entry), coverage)
        return entry.relevance

    def _finished(
        self,
        hit: SearchHit,
        node: ContextNode,
        fused: dict[str, _Fused],
        keywords: KeywordMatcher,
    ) -> SearchHit:
        """A returned hit with its relevance and its why, written for the returned hits only."""
        entry = fused[hit.uri]
        why = entry.why(directory=_parent(hit.uri) in fused)
        return replace(hit, score=self._relevance(node, entry, keywords), why=why)


def _unscored_hit(node: ContextNode, entry: _Fused, score: float) -> SearchHit:
    """A ranked hit before its relevance and why are written (``Searcher._finished``)."""
    return SearchHit(
        node.uri, node.category, node.abstract, 0.0, entry.level, "", node.context_type,
        node.status, rank_score=round(score, 6),
    )  # fmt: skip


_Scored = tuple[float, str, _Fused]


def _pages(scored: list[_Scored], limit: int) -> Iterator[list[_Scored]]:
    """The candidates in pages: a first one wide enough for neighbours to meet
    (POOL_PER_RESULT per wanted hit), then pages of a few more than needed (some winners
    are directory summaries, some fall under min_score)."""
    first = limit * POOL_PER_RESULT + POOL_EXTRA
    yield scored[:first]
    step = limit * 2 + 5
    for start in range(first, len(scored), step):
        yield scored[start : start + step]


def _with_neighbours(candidates: list[_Scored], nodes: dict[str, ContextNode]) -> list[_Scored]:
    bonus = neighbour_bonus([(score, uri) for score, uri, _ in candidates], nodes)
    for _, uri, entry in candidates:
        if uri in bonus:
            entry.neighbour = True
    lifted = [(score + bonus.get(uri, 0.0), uri, entry) for score, uri, entry in candidates]
    lifted.sort(key=lambda item: (-item[0], item[1]))
    return lifted


@dataclass(frozen=True, slots=True)
class _Wanted:
    keywords: KeywordMatcher
    limit: int  # hits to rank: a few more than asked, as some may sink or drop (validity)
    min_score: float
    asked: int  # the caller's limit, which sizes the first page of candidates


def _text(node: ContextNode) -> str:
    return "\n".join((node.abstract, node.overview, node.content))


def check_min_score(min_score: float) -> None:
    if not 0.0 <= min_score <= 1.0:
        raise errors.InvalidInput(f"min_score must be between 0 and 1, not {min_score}")
