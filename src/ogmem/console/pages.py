"""The console's pages (GET): tree, memory, search, sessions, queue, overview."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ogmem.console import charts, views
from ogmem.console.render import Console
from ogmem.core import errors
from ogmem.core.models import ContextType, EventStatus, RequestContext
from ogmem.engine import DEFAULT_TOKEN_BUDGET
from ogmem.server.auth import Principal
from ogmem.server.extra_routes import account_context

OVERVIEW_DAYS = 30
MAX_LIMIT = 100
COMPOSE_LIMIT = 20  # the hits Engine.compose builds its block from


def number(text: str | None, default: int | None, name: str, top: int = 10**9) -> int | None:
    """A whole number from a query parameter, with a clear error when it is not one."""
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError:
        raise errors.InvalidInput(f"{name} must be a whole number, not {text!r}") from None
    if not 0 <= value <= top:
        raise errors.InvalidInput(f"{name} must be between 0 and {top}")
    return value


def router(console: Console) -> APIRouter:
    pages = APIRouter()
    engine = console.engine

    @pages.get("", response_class=HTMLResponse)
    @pages.get("/", response_class=HTMLResponse)
    def home() -> Response:
        return console.redirect("tree")

    @pages.get("/login", response_class=HTMLResponse)
    def login_form() -> HTMLResponse:
        return console.login_page(status=200)

    @pages.get("/tree", response_class=HTMLResponse)
    def tree(request: Request) -> HTMLResponse:
        q = request.query_params

        def build(caller: Principal) -> dict[str, Any]:
            user = q.get("user", "")
            root = q.get("uri") or views.root_of(caller, user)
            category, status = q.get("category", ""), q.get("status", "")
            view = views.tree_view(engine, caller, root, category, status)
            return {
                "view": view, "crumbs": views.breadcrumbs(view.root), "user": user,
                "users": views.users(engine, caller), "category": category, "status": status,
            }  # fmt: skip

        return console.page(request, "tree", build)

    @pages.get("/memory", response_class=HTMLResponse)
    def memory(request: Request) -> HTMLResponse:
        q = request.query_params

        def build(caller: Principal) -> dict[str, Any]:
            node_uri = q.get("uri") or ""
            if not node_uri:
                raise errors.InvalidInput("uri is required: the memory to show")
            older, newer = number(q.get("a"), None, "a"), number(q.get("b"), None, "b")
            view = views.memory_view(engine, caller, node_uri, older, newer)
            return memory_values(view)

        return console.page(request, "memory", build)

    @pages.get("/search", response_class=HTMLResponse)
    def search(request: Request) -> HTMLResponse:
        q = request.query_params

        def build(caller: Principal) -> dict[str, Any]:
            users = views.users(engine, caller)
            user = q.get("user") or (users[0] if users else views.NO_USER)
            agent, category = q.get("agent") or None, q.get("category", "")
            limit = number(q.get("limit"), 10, "limit", MAX_LIMIT) or 10
            budget = number(q.get("budget"), DEFAULT_TOKEN_BUDGET, "budget", 100_000)
            query = q.get("q", "").strip()
            values: dict[str, Any] = {
                "users": users, "user": user, "agent": agent or "", "category": category,
                "limit": limit, "budget": budget, "query": query, "found": None, "block": None,
            }  # fmt: skip
            if query:
                ctx = caller.context(user, agent)
                budget = budget or DEFAULT_TOKEN_BUDGET
                values.update(search_and_compose(ctx, query, category, limit, budget))
            return values

        return console.page(request, "search", build)

    @pages.get("/sessions", response_class=HTMLResponse)
    def sessions(request: Request) -> HTMLResponse:
        q = request.query_params

        def build(caller: Principal) -> dict[str, Any]:
            user = q.get("user", "")
            ctx = views.context(caller, user or None)
            listed = engine.list_sessions(ctx, all_users=caller.user_id is None and not user)
            return {"sessions": listed, "user": user, "users": views.users(engine, caller)}

        return console.page(request, "sessions", build)

    @pages.get("/queue", response_class=HTMLResponse)
    def queue(request: Request) -> HTMLResponse:
        def build(caller: Principal) -> dict[str, Any]:
            ctx = account_context(caller)
            stats = engine.outbox_stats(ctx)
            dead = engine.outbox_events(ctx, EventStatus.DLQ, 100)
            return {"stats": stats, "dead": dead}

        return console.page(request, "queue", build)

    @pages.get("/overview", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        def build(caller: Principal) -> dict[str, Any]:
            return overview_values(caller)

        return console.page(request, "overview", build)

    def overview_values(caller: Principal) -> dict[str, Any]:
        days = charts.days_back(OVERVIEW_DAYS)
        ctx = views.context(caller)
        nodes = engine.tree(views.root_of(caller, None), ctx)
        memories = [(n.category, n.created_at) for n in nodes
                    if n.context_type is ContextType.MEMORY]  # fmt: skip
        series = charts.cumulative_per_day(memories, days)
        listed = engine.list_sessions(ctx, all_users=caller.user_id is None)
        commits = charts.per_day((s.committed_at for s in listed), days)
        searches = searches_per_day(caller, days)
        return {
            "searches_chart": searches and charts.bars("searches per day", days, searches),
            "searches": sum(searches),
            "memories_chart": charts.lines("memories per category", days, series),
            "legend": charts.legend(series), "total": len(memories),
            "commits_chart": charts.bars("session commits per day", days, commits),
            "commits": sum(commits), "days": OVERVIEW_DAYS,
        }  # fmt: skip

    def search_and_compose(
        ctx: RequestContext, query: str, category: str, limit: int, budget: int
    ) -> dict[str, Any]:
        """The hits, and the block an agent would get (``compose``: 20 hits, no category
        filter); without a category filter one search serves both."""
        wide = max(limit, COMPOSE_LIMIT)
        if category:
            found = engine.search(query, ctx, categories=[category], limit=limit)
            block = engine.compose(query, ctx, budget, limit=COMPOSE_LIMIT)
        else:
            found = engine.search(query, ctx, limit=wide)
            block = engine.compose_from(found, budget)
            found = replace(found, hits=found.hits[:limit])
        return {"found": found, "block": block}

    def searches_per_day(caller: Principal, days: list[date]) -> list[int]:
        """The account's searches (its recall log does not say whose): account keys only."""
        if caller.user_id is not None:
            return []
        since = datetime.combine(days[0], time(), UTC)
        counted = engine.searches_per_day(views.context(caller), since)
        return [counted.get(day.isoformat(), 0) for day in days]

    return pages


def memory_values(view: views.MemoryView) -> dict[str, Any]:
    return {
        "view": view, "node": view.node, "metadata": views.metadata_rows(view.node),
        "crumbs": views.breadcrumbs(view.node.uri), "conflict": None,
    }  # fmt: skip
