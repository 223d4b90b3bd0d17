"""The scripted demo behind ``make demo``: one user's memories written, merged and archived."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    ContextType,
    EventStatus,
    RequestContext,
    WriteResult,
)
from ogmem.engine import Engine

ACCOUNT, USER, AGENT = "demo", "alice", "coder"

FIRST_SESSION = [
    CandidateMemory(
        category="profile", abstract="Alice is a backend engineer in Berlin",
        content="Alice works as a backend engineer at a fintech start-up in Berlin.",
        source_message_ids=("m1",),
    ),
    CandidateMemory(
        category="preference", routing_key="editor", abstract="Prefers vim as her editor",
        content="Alice edits code in vim and avoids heavy IDEs.", source_message_ids=("m2",),
    ),
    CandidateMemory(
        category="preference", routing_key="indentation", abstract="Indents with tabs",
        content="Alice indents code with tabs.", source_message_ids=("m3",),
    ),
    CandidateMemory(
        category="event", routing_key="billing-launch", when="2026-11-20",
        abstract="Shipped the billing service on 2026-11-20",
        content="Alice's team shipped the new billing service on 20 November 2026.",
        source_message_ids=("m4",),
    ),
    CandidateMemory(
        category="case", owner_scope="agent", routing_key="flaky-sqlite-tests",
        abstract="Flaky tests from a shared SQLite file",
        content="Problem: tests failed at random with 'database is locked'. "
        "Solution: give each test its own in-memory database.",
        attributes={"problem": "random 'database is locked' failures",
                    "solution": "one in-memory database per test"},
    ),
]  # fmt: skip

SECOND_SESSION = [
    CandidateMemory(
        category="preference", routing_key="editor", abstract="Moved from vim to neovim",
        content="Alice now uses neovim with the built-in LSP client.", source_message_ids=("m9",),
    ),
    CandidateMemory(
        category="preference", routing_key="indentation", operation="archive",
        abstract="No longer indents with tabs", content="Alice switched to spaces (ruff format).",
    ),
]  # fmt: skip


SEARCHES = ("which code editor does Alice like?", "tests fail with database is locked")


def _results_table(title: str, results: list[WriteResult]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("status", "action", "uri", "v", "reason"):
        table.add_column(column, overflow="fold")
    for result in results:
        action = result.plan.action.value if result.plan else "-"
        version = str(result.node.version) if result.node else "-"
        detail = result.error or result.reason
        table.add_row(result.status.value, action, result.uri or "-", version, detail)
    return table


def _node_tree(engine: Engine, ctx: RequestContext) -> Tree:
    root = Tree(f"ctx://{ctx.account_id}")
    branches: dict[str, Tree] = {f"ctx://{ctx.account_id}": root}
    summaries = {
        n.uri: n for n in engine.tree(None, ctx) if n.context_type is ContextType.DIRECTORY
    }
    for node in engine.tree(None, ctx):
        if node.context_type is ContextType.DIRECTORY:
            continue
        parent_uri, _, name = node.uri.rpartition("/")
        parent = _branch(branches, parent_uri, summaries)
        label = f"[bold]{name}[/] v{node.version} {node.status.value}: {node.abstract}"
        merge = node.metadata.get("merge")
        if merge:
            label += f" [dim](merged: {merge['method']}, {merge.get('reason') or 'ok'})[/]"
        parent.add(label)
    return root


def _branch(branches: dict[str, Tree], dir_uri: str, summaries: dict[str, ContextNode]) -> Tree:
    if dir_uri not in branches:
        parent_uri, _, name = dir_uri.rpartition("/")
        label = f"{name}/"
        if dir_uri in summaries:
            label += (
                f" [dim]summary v{summaries[dir_uri].version}: {summaries[dir_uri].abstract}[/]"
            )
        branches[dir_uri] = _branch(branches, parent_uri, summaries).add(label)
    return branches[dir_uri]


def _search_table(engine: Engine, ctx: RequestContext, query: str) -> Table:
    result = engine.search(query, ctx, limit=3)
    title = f"search: {query!r} ({result.took_ms:.1f} ms)"
    table = Table(title=title, title_justify="left")
    for column in ("score", "uri", "abstract", "why"):
        table.add_column(column, overflow="fold")
    for hit in result.hits:
        table.add_row(f"{hit.score:.4f}", hit.uri, hit.abstract, hit.why)
    return table


def _outbox_table(engine: Engine, ctx: RequestContext) -> Table:
    table = Table(
        title="pending outbox events (the background indexer's work)", title_justify="left"
    )
    for column in ("id", "type", "uri", "payload"):
        table.add_column(column, overflow="fold")
    for event in engine.outbox_events(ctx, EventStatus.PENDING, limit=1000):
        table.add_row(str(event.id), event.type.value, event.uri, str(dict(event.payload)))
    return table


def _history_table(engine: Engine, ctx: RequestContext, node_uri: str) -> Table:
    table = Table(title=f"history of {node_uri}", title_justify="left")
    for column in ("v", "action", "status", "abstract", "content"):
        table.add_column(column, overflow="fold")
    for entry in engine.history(node_uri, ctx):
        node = entry.node
        table.add_row(
            str(node.version), entry.action, node.status.value, node.abstract, node.content
        )
    return table


def fresh_store(data_dir: Path) -> Path:
    path = data_dir / "demo.sqlite"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return path


def run_demo(data_dir: Path, console: Console | None = None) -> Path:
    console = console or Console()
    path = fresh_store(data_dir)
    with Engine.open(path, worker=False) as engine:
        ctx = RequestContext(ACCOUNT, USER, agent_id=AGENT, session_id="session-1")
        console.print(f"ogmem demo (SQLite, no LLM, no network), store:\n  [bold]{path}[/]\n")
        console.print(
            _results_table("session 1: five candidates", engine.remember(FIRST_SESSION, ctx))
        )
        no_agent = RequestContext(ACCOUNT, USER, session_id="session-1")
        skipped = engine.remember(FIRST_SESSION[-1:], no_agent)
        console.print(_results_table("the agent case again, without an agent_id", skipped))
        later = RequestContext(ACCOUNT, USER, agent_id=AGENT, session_id="session-2")
        console.print(
            _results_table(
                "session 2: a merge and an archive", engine.remember(SECOND_SESSION, later)
            )
        )
        again = engine.remember(FIRST_SESSION[:1], ctx)
        console.print(_results_table("session 1 redelivered (idempotency)", again))
        console.print(_outbox_table(engine, ctx))
        stats = engine.drain()
        console.print(
            f"\n[bold]worker drained[/]: {stats.claimed} events, {stats.coalesced} coalesced,\n"
            f"{stats.embedded_texts} texts embedded ({engine.embedder.model_id}), "
            f"{stats.dead_lettered} dead-lettered"
        )
        console.print("\n[bold]the tree[/]")
        console.print(_node_tree(engine, ctx))
        editor = f"ctx://{ACCOUNT}/users/{USER}/memories/preferences/editor"
        console.print(_history_table(engine, ctx, editor))
        for query in SEARCHES:
            console.print(_search_table(engine, ctx, query))
        block = engine.compose(SEARCHES[0], ctx, token_budget=60)
        console.print(
            f"\n[bold]compose[/] ({block.tokens} of {block.budget} tokens):\n{block.text}"
        )
    console.print(next_steps(path), markup=False, highlight=False, soft_wrap=True)
    return path


def next_steps(path: Path) -> str:
    """What to try next, against the demo's own store (its account and user are not the
    CLI's defaults, so they are spelled out)."""
    who = f"ogmem --account {ACCOUNT} --user {USER}"
    memories = f"ctx://{ACCOUNT}/users/{USER}/memories"
    return "\n".join(
        (
            "",
            "next, against this store:",
            f"  export OGMEM_STORE={path}",
            f"  M={memories}",
            f"  {who} ls $M/preferences",
            f"  {who} cat $M/preferences/editor",
            f"  {who} history $M/preferences/editor",
            f"  {who} --agent {AGENT} search 'which editor?'",
            f"  {who} compose 'which editor?' --budget 200",
        )
    )
