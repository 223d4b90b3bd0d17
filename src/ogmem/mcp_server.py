"""ogmem as an MCP server: long-term memory tools for any MCP-speaking agent.

    OGMEM_STORE=~/mem.sqlite python -c "from ogmem.mcp_server import main; main()"

Tools: ``remember``, ``add_memory``, ``recall``, ``compose``, ``read``, ``ls``, ``forget``.
One server serves one (account, user, agent): an MCP connection carries no identity of its
own, so the owner is fixed when the server starts (``OGMEM_MCP_ACCOUNT``, ``OGMEM_MCP_USER``,
``OGMEM_MCP_AGENT``, read by ``run()`` only). Engine errors reach the model as tool errors
with their message, so it can correct itself; they never stop the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ogmem import mcp_add, wiring
from ogmem.core import errors, uri
from ogmem.core.models import ContextNode, Message, RequestContext, SessionState, utcnow
from ogmem.engine import Engine
from ogmem.net import is_loopback
from ogmem.retrieval.relevance import COMPOSE_MIN_SCORE
from ogmem.settings import Settings

DEFAULT_PORT = 8766
INSTRUCTIONS = """\
Long-term memory across conversations. Call `recall` (or `compose`) before answering when \
the user's past, preferences or earlier decisions could matter; call `remember` when the \
user states something worth keeping (a preference, a fact about them, a decision, an event). \
Memories are addressed by ctx:// URIs; `read` shows one in full, `ls` browses them, \
`forget` archives one that is no longer true."""


class ChatMessage(BaseModel):
    """One message of a conversation to remember."""

    role: str = Field(default="user", description="Who spoke: user, assistant, ...")
    content: str = Field(description="What was said.")
    name: str | None = Field(default=None, description="The speaker's name, if known.")


AS_OF = Field(description="A past date or time (ISO, e.g. 2022-06-01): what held then.")


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    """An engine error is something the model can act on (a wrong URI, a bad argument):
    report it as a tool error with its message instead of a generic crash."""
    try:
        yield
    except errors.OgmemError as exc:
        raise ToolError(f"{type(exc).__name__}: {exc}") from exc


def _message_id(index: int, message: ChatMessage) -> str:
    """An id made of what was said (and its place in the call), not of when: remembering the
    same text again gives the same raw memory, which the writer skips as an exact repeat
    (a time-based id made every call a new memory)."""
    parts = (str(index), message.role, message.name or "", message.content.strip())
    return "mcp-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _node_json(node: ContextNode) -> dict[str, Any]:
    return {
        "uri": node.uri,
        "category": node.category,
        "status": node.status.value,
        "version": node.version,
        "abstract": node.abstract,
        "overview": node.overview,
        "content": node.content,
        "updated_at": node.updated_at.isoformat(),
        **{
            name: moment.isoformat()
            for name, moment in (("valid_from", node.valid_from), ("valid_to", node.valid_to))
            if moment is not None
        },
    }


def _memory_roots(ctx: RequestContext) -> list[str]:
    roots = [str(uri.build(ctx.account_id, "users", ctx.user_id, "memories"))]
    if ctx.agent_id:
        roots.append(str(uri.build(ctx.account_id, "agents", ctx.agent_id, "memories")))
    return roots


def _written_in(
    engine: Engine, ctx: RequestContext, session_id: str, since: datetime
) -> list[dict[str, str]]:
    """The memories this commit created or merged into: nodes changed since it started whose
    provenance names the session (the commit itself reports counts, not URIs)."""
    found = []
    for root in _memory_roots(ctx):
        for node in engine.tree(root, ctx):
            ids = node.metadata.get("session_ids") or ()
            if session_id in ids and node.updated_at >= since:
                found.append(
                    {"uri": node.uri, "category": node.category, "abstract": node.abstract}
                )
    return found


def _commit_json(
    before: SessionState, after: SessionState, written: list[dict[str, str]]
) -> dict[str, Any]:
    # a session's counts add up over its commits; the caller wants this call's outcome
    return {
        "session_id": after.session_id,
        "status": after.status.value,
        "written": after.written - before.written,
        "skipped": after.skipped - before.skipped,
        "failed": after.failed - before.failed,
        "why": after.last_error or after.last_reason or "",
        "memories": written,
    }


def build_server(
    engine: Engine,
    *,
    account_id: str = "default",
    user_id: str = "default",
    agent_id: str | None = None,
    catch_up: bool = True,
) -> MCPServer:
    """The MCP server over ``engine``, acting for one account, user and (optional) agent.

    ``catch_up`` indexes pending writes before ``recall`` and ``compose``, so a memory is
    found right after it was remembered even with no background worker (the embedded case).
    """
    server: MCPServer = MCPServer("ogmem", instructions=INSTRUCTIONS)

    def ctx(session_id: str | None = None) -> RequestContext:
        return RequestContext(account_id, user_id, agent_id, session_id)

    def index_pending() -> None:
        if catch_up and engine.outbox_stats(ctx()).get("PENDING"):
            engine.drain()

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    def remember(
        text: Annotated[
            str | None, Field(description="A fact, preference or event to keep, in plain words.")
        ] = None,
        messages: Annotated[
            list[ChatMessage] | None,
            Field(description="Or: conversation messages to extract memories from."),
        ] = None,
        session_id: Annotated[
            str | None,
            Field(description="Conversation id, to group messages of one conversation."),
        ] = None,
    ) -> dict[str, Any]:
        """Store something in long-term memory so it can be recalled in later conversations.

        Pass `text` for one thing worth keeping ("The user prefers tabs over spaces"), or
        `messages` for a piece of conversation to extract memories from. New facts are merged
        into what is already known about the same topic; exact repeats are skipped.
        Returns the memories written (uri, category, abstract), the counts written / skipped
        / failed, and `why`: the reason for each outcome (e.g. "no new information").
        """
        chat = list(messages or [])
        if text:
            chat.insert(0, ChatMessage(role="user", content=text))
        if not chat:
            raise ToolError("nothing to remember: pass `text` or `messages`")
        session = session_id or f"mcp-{uuid.uuid4().hex[:16]}"
        request = ctx(session)
        with _engine_errors():
            said = [
                Message(m.role, m.content, name=m.name, message_id=_message_id(i, m))
                for i, m in enumerate(chat)
            ]
            before = engine.ingest(said, request)
            started = utcnow()
            after = engine.commit(session, request, wait=True)
            return _commit_json(before, after, _written_in(engine, request, session, started))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def recall(
        query: Annotated[str, Field(description="What to look for, in natural language.")],
        limit: Annotated[int, Field(ge=1, le=50, description="At most this many results.")] = 8,
        categories: Annotated[
            list[str] | None,
            Field(description="Only these kinds, e.g. preference, profile, entity, event."),
        ] = None,
        include_sessions: Annotated[
            bool, Field(description="Also search past conversations' transcripts.")
        ] = False,
        min_score: Annotated[
            float,
            Field(ge=0.0, le=1.0, description="Leave out matches less relevant than this."),
        ] = 0.0,
        as_of: Annotated[datetime | None, AS_OF] = None,
    ) -> dict[str, Any]:
        """Search long-term memory for what is known about the user, their projects and past
        conversations. Use it before answering whenever earlier context could matter.

        Returns the best matches first, each with its `uri`, `abstract` (a one-line summary)
        and `score` (its relevance from 0 to 1: below 0.3 it is most likely unrelated). Use
        `read` with a uri for the full memory. A fact that no longer holds comes after the
        current ones with `superseded: true`; ask `as_of` a date for what held then.
        """
        with _engine_errors():
            index_pending()
            result = engine.search(
                query, ctx(), categories=categories, limit=limit,
                include_sessions=include_sessions, min_score=min_score, as_of=as_of,
            )  # fmt: skip
        return {
            "results": [
                {"uri": hit.uri, "abstract": hit.abstract, "score": round(hit.score, 4),
                 "category": hit.category, "superseded": hit.superseded}
                for hit in result.hits
            ]
        }  # fmt: skip

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def compose(
        query: Annotated[str, Field(description="The topic or question of the next reply.")],
        token_budget: Annotated[
            int, Field(ge=50, le=32_000, description="Maximum size of the block, in tokens.")
        ] = 1000,
        include_sessions: Annotated[
            bool, Field(description="Also draw on past conversations' transcripts.")
        ] = False,
        min_score: Annotated[
            float,
            Field(ge=0.0, le=1.0, description="Draw only on memories at least this relevant."),
        ] = COMPOSE_MIN_SCORE,
    ) -> str:
        """Build a ready-to-use context block of the memories relevant to `query`, within
        `token_budget` tokens: the most relevant ones in detail, the rest as one-line
        summaries, grouped by kind. Prefer it to `recall` when you want background to read
        rather than a list of results. Returns the block as text (empty when nothing is known).
        """
        with _engine_errors():
            index_pending()
            return engine.compose(
                query, ctx(), token_budget, include_sessions=include_sessions,
                min_score=min_score,
            ).text  # fmt: skip

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def read(
        uri: Annotated[str, Field(description="A ctx:// URI, as returned by recall or ls.")],
        as_of: Annotated[datetime | None, AS_OF] = None,
    ) -> dict[str, Any]:
        """Read one memory in full: its abstract, overview, content, category, status
        (ACTIVE or ARCHIVED) and version; with `as_of`, the fact it held then."""
        with _engine_errors():
            return _node_json(engine.read(uri, ctx(), as_of=as_of))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def ls(
        uri: Annotated[
            str | None,
            Field(description="A ctx:// directory URI; omit it for the user's memories root."),
        ] = None,
    ) -> dict[str, Any]:
        """List a directory of the memory tree: memories are grouped by kind
        (ctx://ACCOUNT/users/USER/memories/preferences/...). Entries ending in "/" are
        directories to list further; the others are memories with a one-line abstract.
        """
        where = uri or _memory_roots(ctx())[0]
        with _engine_errors():
            entries = engine.ls(where, ctx())
        return {
            "uri": where,
            "entries": [
                {"uri": e.uri + ("/" if e.is_dir else ""),
                 "abstract": e.node.abstract if e.node else "",
                 "status": e.node.status.value if e.node else ""}
                for e in entries
            ],
        }  # fmt: skip

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    def forget(
        uri: Annotated[str, Field(description="The ctx:// URI of the memory to forget.")],
    ) -> dict[str, Any]:
        """Forget a memory that is wrong or no longer true (the user moved, changed their
        mind, asked you to forget it). The memory is archived: it stops appearing in
        `recall` and `compose`, and the words it came from are blanked out of the stored
        conversations; the memory's own history is kept. Returns its uri, status and version.
        """
        with _engine_errors():
            node = engine.forget(uri, ctx())
        return {"uri": node.uri, "status": node.status.value, "version": node.version}

    mcp_add.register(server, engine, ctx)
    return server


def run(transport: str = "stdio", host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve over ``stdio`` (an agent starts this process) or ``streamable-http`` (also
    spelled ``http``; at http://HOST:PORT/mcp). Configuration comes from the environment."""
    kind: Literal["stdio", "streamable-http"]
    if transport == "stdio":
        kind = "stdio"
    elif transport in ("http", "streamable-http"):
        kind = "streamable-http"
    else:
        raise errors.ConfigurationError(f"unknown MCP transport {transport!r}: stdio or http")
    if kind == "streamable-http" and not is_loopback(host):
        # the MCP endpoint has no authentication: on a public address anyone who reaches it
        # could read and forget this user's memories
        raise errors.ConfigurationError(
            f"refusing to serve MCP over HTTP on {host}: it has no authentication, so it "
            "listens on loopback only (127.0.0.1); for remote agents use `ogmem serve` with "
            "API keys"
        )
    # No background worker: recall and compose index pending writes themselves, so results
    # are current without a second process, and no thread races them for the same events.
    with wiring.open_engine(Settings.from_env(), worker=False) as engine:
        server = build_server(
            engine,
            account_id=os.environ.get("OGMEM_MCP_ACCOUNT") or "default",
            user_id=os.environ.get("OGMEM_MCP_USER") or "default",
            agent_id=os.environ.get("OGMEM_MCP_AGENT") or None,
        )
        if kind == "stdio":
            server.run("stdio")
        else:
            server.run("streamable-http", host=host, port=port)


def main() -> None:
    run()
