"""The MCP tool ``add_memory``: the plain form (one text -> one memory, no extraction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from ogmem import plain
from ogmem.core import errors
from ogmem.core.models import RequestContext
from ogmem.engine import Engine


def register(server: MCPServer, engine: Engine, ctx: Callable[[], RequestContext]) -> None:
    """Add the tool to ``server``; ``ctx`` gives the owner of the memories."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    def add_memory(
        text: Annotated[str, Field(description="The memory in plain words, e.g. 'Prefers tabs'.")],
        category: Annotated[
            str | None,
            Field(
                description="profile, preference, entity or event (default: event, dated "
                "today); case, pattern, skill, tool for the agent's own."
            ),
        ] = None,
        when: Annotated[
            str | None, Field(description="When it happened, YYYY-MM-DD (default: today).")
        ] = None,
    ) -> dict[str, Any]:
        """Store one memory exactly as given, without extraction: the text is its content, its
        first sentence the summary. Use it for a fact already phrased as you want it kept;
        use `remember` for conversation to extract from. An exact repeat is skipped.
        Returns the uri, the status (written, skipped, failed) and why.
        """
        try:
            memory = plain.candidate(engine.registry, text, category, when)
            result = engine.remember([memory], ctx())[0]
        except errors.OgmemError as exc:
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc
        return {
            "uri": result.uri,
            "status": result.status.value,
            "why": result.error or result.reason,
        }
