"""Search cost at scale: one account of many users beside many small accounts.

One account ("crowd") holds ``users`` users of ``per_user`` memories each and an agent of as
many; ``small_accounts`` accounts of ``per_small`` memories sit beside it; one more account
("alone") holds only the target user's memories, the same as in the crowd. Every memory is
loaded through the product's ports (bench/loader.py: the Store's bulk creation, the IndexStore
the worker writes with), with synthetic texts (drawn from a pool of 50k, so users share texts)
and clustered 384-d vectors around centroids every owner shares, so other users' records
crowd around the target's queries as real users' would.

Figures (``pg_`` first on PostgreSQL, pgvector's index built after the load):
- ``scale_user_search_p50_ms_1m`` / ``_alone_p50_ms``: hybrid search (vector + BM25, fused,
  nodes read) of the target user in the crowd / alone, query embedding excluded; interleaved,
  so a change of load on the shared machine hits both alike; ``_ratio`` = crowd / alone.
- ``scale_user_recall_at_10``: the vector index's 10 best of the user against exact search
  over that user's memories; ``scale_user_agent_*``: the same with the agent's memories too.
- ``scale_account_search_ms`` / ``_recall_at_10``: a vector search of the whole account (no
  owner filter), a few queries only (it reads every owner).
- ``scale_cache_*`` (SQLite): a fresh process searches every small account and every user of
  the crowd once (bench/scale_cache.py); its RSS against the cache budget.

``python -m bench scale [--users N --per-user N --small-accounts N --per-small N --queries N
--cache-mb N]``; the defaults are the issue's size (1M memories; hours on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench import corpus, loader, pg
from ogmem.core.models import NodeStatus, RequestContext, SearchFilter
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.index.owner_cache import DEFAULT_BUDGET_MB

CROWD, ALONE, AGENT, SMALL_USER = "crowd", "alone", "helper", "s"
DIM, CLUSTERS, POOL = 384, 256, 50_000
ACCOUNT_QUERIES = 3
SEARCH_WIDTH = 1000  # PostgreSQL: hnsw.ef_search for these crowded vectors (pgvector's most)
BASE_CACHE_MB = 1  # the walk again with next to no cache: the process's base


@dataclass(frozen=True, slots=True)
class Size:
    users: int = 1000
    per_user: int = 1000
    small_accounts: int = 10_000
    per_small: int = 5
    queries: int = 50
    cache_mb: int = DEFAULT_BUDGET_MB
    build_memory_mb: int = 4096  # PostgreSQL: what the operator grants the vector index build


SIZE = Size()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name in Size.__dataclass_fields__:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name, default=None)


def configure(options: argparse.Namespace) -> None:
    """Take the sizes given on the command line (the others keep their default)."""
    global SIZE
    given = {k: v for k, v in vars(options).items() if k in Size.__dataclass_fields__}
    SIZE = replace(SIZE, **{k: v for k, v in given.items() if v is not None})


def small_account(number: int) -> str:
    return f"small{number}"


class Corpus:
    """Deterministic texts and vectors per owner (numbered: users, the agent, small accounts)."""

    def __init__(self, size: Size) -> None:
        self.size = size
        self.pool = corpus.synthetic_texts(min(POOL, size.users * size.per_user))
        self.centroids = np.random.default_rng(7).standard_normal((CLUSTERS, DIM))
        self.target = size.users // 2

    def texts(self, owner: int, count: int) -> list[str]:
        return [self.pool[(owner * count + i) % len(self.pool)] for i in range(count)]

    def vectors(self, owner: int, count: int) -> npt.NDArray[np.float32]:
        rng = np.random.default_rng(10_000 + owner)
        rows: npt.NDArray[np.float64] = self.centroids[rng.integers(0, CLUSTERS, count)]
        rows = rows + 0.6 * rng.standard_normal((count, DIM))
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (rows / norms).astype(np.float32)
        return unit

    def queries(self) -> Iterator[tuple[str, npt.NDArray[np.float32]]]:
        """A target's memory's vector plus noise, and four of its words."""
        rng = np.random.default_rng(11)
        texts, vectors = self.target_memories()
        for pick in rng.integers(0, len(texts), self.size.queries):
            noisy = vectors[pick] + 0.3 * rng.standard_normal(DIM).astype(np.float32)
            words = " ".join(rng.permutation(texts[pick].split())[:4])
            yield words, noisy / np.linalg.norm(noisy)

    def target_memories(self) -> tuple[list[str], npt.NDArray[np.float32]]:
        count = self.size.per_user
        return self.texts(self.target, count), self.vectors(self.target, count)


def load_all(engine: Engine, work: Corpus) -> float:
    """Every account, through the ports; the seconds it took."""
    size, started = work.size, time.perf_counter()
    for user in range(size.users):
        count = size.per_user
        loader.load(engine, CROWD, f"u{user}", work.texts(user, count), work.vectors(user, count))
        if (user + 1) % max(1, size.users // 10) == 0:
            print(f"    loaded {user + 1} users, {time.perf_counter() - started:.0f} s", flush=True)
    agent = size.users
    loader.load(engine, CROWD, AGENT, work.texts(agent, size.per_user),
                work.vectors(agent, size.per_user), kind="agent")  # fmt: skip
    loader.load(engine, ALONE, f"u{work.target}", *work.target_memories())
    for number in range(size.small_accounts):
        owner = agent + 1 + number
        loader.load(engine, small_account(number), SMALL_USER, work.texts(owner, size.per_small),
                    work.vectors(owner, size.per_small))  # fmt: skip
    return time.perf_counter() - started


def _recall(found: list[float], exact_scores: npt.NDArray[np.float32], k: int) -> float:
    """Share of the k hits whose score reaches the exact k-th best (ties count as found)."""
    kth_best = np.partition(exact_scores, -k)[-k]
    return float(sum(score >= kth_best - 1e-5 for score in found[:k]) / k)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def timed_searches(engine: Engine, work: Corpus) -> dict[str, float]:
    user = f"u{work.target}"
    contexts = {
        "crowd": RequestContext(CROWD, user),
        "alone": RequestContext(ALONE, user),
        "agent": RequestContext(CROWD, user, agent_id=AGENT),
    }
    queries = list(work.queries())
    for ctx in contexts.values():  # loads the caches
        engine.searcher.search(queries[0][0], ctx, query_vector=queries[0][1])
    timings: dict[str, list[float]] = {name: [] for name in contexts}
    for text, vector in queries:
        for name, ctx in contexts.items():  # interleaved: load changes hit each alike
            started = time.perf_counter()
            engine.searcher.search(text, ctx, query_vector=vector)
            timings[name].append(_ms(started))
    crowd, alone = statistics.median(timings["crowd"]), statistics.median(timings["alone"])
    return {
        "scale_user_search_p50_ms_1m": crowd,
        "scale_user_search_p95_ms_1m": float(np.percentile(timings["crowd"], 95)),
        "scale_user_search_alone_p50_ms": alone,
        "scale_user_search_ratio": crowd / alone,
        "scale_user_agent_search_p50_ms": statistics.median(timings["agent"]),
    }


def recalls(engine: Engine, work: Corpus) -> dict[str, float]:
    user, agent = f"user:u{work.target}", f"agent:{AGENT}"
    mine = work.vectors(work.target, work.size.per_user)
    ours = np.vstack([mine, work.vectors(work.size.users, work.size.per_user)])
    active = (NodeStatus.ACTIVE,)
    only_user = SearchFilter(owner_spaces=(user,), statuses=active)
    with_agent = SearchFilter(owner_spaces=(user, agent), statuses=active)
    user_recall, agent_recall = [], []
    for _, query in work.queries():
        hits = engine.vectors.search(CROWD, query, only_user, 10)
        user_recall.append(_recall([h.score for h in hits], mine @ query, 10))
        hits = engine.vectors.search(CROWD, query, with_agent, 10)
        agent_recall.append(_recall([h.score for h in hits], ours @ query, 10))
    return {
        "scale_user_recall_at_10": float(np.mean(user_recall)),
        "scale_user_agent_recall_at_10": float(np.mean(agent_recall)),
    }


def account_wide(engine: Engine, work: Corpus) -> dict[str, float]:
    """A few vector searches of the whole crowd (no owner filter): cost and recall."""
    queries = np.array([vector for _, vector in work.queries()][:ACCOUNT_QUERIES])
    owners = range(work.size.users + 1)  # the users and the agent
    exact = np.vstack([work.vectors(owner, work.size.per_user) @ queries.T for owner in owners])
    timings, found = [], []
    for query, scores in zip(queries, exact.T, strict=True):
        started = time.perf_counter()
        hits = engine.vectors.search(CROWD, query, SearchFilter(), 10)
        timings.append(_ms(started))
        found.append(_recall([h.score for h in hits], scores, 10))
    return {
        "scale_account_search_ms": statistics.median(timings),
        "scale_account_recall_at_10": float(np.mean(found)),
    }


def measured(engine: Engine, work: Corpus) -> dict[str, float]:
    return {
        **timed_searches(engine, work),
        **recalls(engine, work),
        **account_wide(engine, work),
        "scale_crowd_memories": work.size.users * work.size.per_user,
        "scale_small_accounts": work.size.small_accounts,
    }


def cache_figures(store: Path, size: Size) -> dict[str, float]:
    """The cache check runs in a fresh process, so its RSS is the searches', not the load's;
    then once more with a 1 MB budget, whose RSS after the same walk is the process's base
    (bench/scale_cache.py): the check is ``scale_cache_rss_mb`` <= base + budget."""
    figures = _cache_walk(store, size)
    bare = _cache_walk(store, replace(size, cache_mb=BASE_CACHE_MB))
    base = bare["scale_cache_rss_mb"] - bare["scale_cache_used_mb"]
    figures["scale_cache_base_rss_mb"] = base
    figures["scale_cache_over_budget_mb"] = (
        figures["scale_cache_rss_mb"] - base - figures["scale_cache_budget_mb"]
    )
    return figures


def _cache_walk(store: Path, size: Size) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale_cache", str(store), json.dumps(asdict(size))],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> dict[str, float]:
    work = Corpus(SIZE)
    print(f"  size: {SIZE}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ogmem-scale-") as tmp:
        store = Path(tmp) / "scale.sqlite"
        with Engine.open(store, embedder=HashEmbedder(DIM), worker=False) as engine:
            load_s = load_all(engine, work)
        with Engine.open(
            store, embedder=HashEmbedder(DIM), worker=False, vector_cache_mb=SIZE.cache_mb
        ) as engine:
            figures = measured(engine, work)
        return {**figures, "scale_load_s": load_s, **cache_figures(store, SIZE)}


def _grant(engine: Engine, setting: str, value: str) -> None:
    """An operator's ``ALTER DATABASE ... SET``, for the connections opened after it (the next
    start's). pgvector is loaded first: PostgreSQL accepts its settings only once it is."""
    engine.backend.uow.raw_query(  # type: ignore[attr-defined]
        # the rows read are the first statement's (psycopg keeps the others' results)
        "SELECT '[1]'::vector AS loaded; DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET "
        f"{setting} = %L', current_database(), '{value}'); END $$"
    )


def _grant_operator_settings(engine: Engine) -> None:
    """What an operator of a store like this one sets (README, Scale out):
    - build memory: the denser graph needs ~2.5 KB a record to build in memory, past the 1 GB
      ogmem grants it by default at ~400k records;
    - search width: these synthetic vectors crowd a query (~4,000 records of a cluster nearly
      equidistant from it), so pgvector's widest search instead of ogmem's default 200, which
      suits real text (docs/decisions.md, "How wide the HNSW search looks")."""
    _grant(engine, "maintenance_work_mem", f"{int(SIZE.build_memory_mb)}MB")
    _grant(engine, "hnsw.ef_search", str(int(SEARCH_WIDTH)))


def _settle(engine: Engine) -> None:
    """What autovacuum does in a steady state after a bulk load: the statistics the planner
    needs, and the GIN index's pending list merged (a search scans it whole, ~30 ms after the
    load otherwise). As the database's owner (``raw_query``, the PostgreSQL store's)."""
    engine.backend.uow.raw_query(  # type: ignore[attr-defined]
        "SELECT gin_clean_pending_list('index_records_fts') AS pages; ANALYZE index_records"
    )


def pg_main() -> dict[str, float]:
    work = Corpus(SIZE)
    print(f"  size: {SIZE}", flush=True)
    with pg.database() as url:
        # the exact index creates nothing in the database: the HNSW index is built once, after
        with Engine.open(url, embedder=HashEmbedder(DIM), worker=False, vector_index="exact") as e:
            load_s = load_all(e, work)
            _settle(e)
            _grant_operator_settings(e)
        started = time.perf_counter()
        with Engine.open(url, embedder=HashEmbedder(DIM), worker=False) as engine:
            build_s = time.perf_counter() - started
            figures = measured(engine, work)
    figures = {**figures, "scale_load_s": load_s, "scale_index_build_s": build_s}
    return {f"pg_{name}": value for name, value in figures.items()}
