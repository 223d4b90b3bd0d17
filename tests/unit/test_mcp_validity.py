"""The MCP recall and read tools with as_of."""

from __future__ import annotations

from datetime import UTC, datetime

from mcp.server.mcpserver import MCPServer

from ogmem.core.models import CandidateMemory, RequestContext
from ogmem.engine import Engine
from tests.unit.test_mcp_server import call, engine, server  # noqa: F401 (fixtures)

HOME = "ctx://acme/users/alice/memories/entities/alice-home"


def _home(city: str, year: int) -> CandidateMemory:
    return CandidateMemory(
        category="entity", routing_key="alice-home", abstract=f"Alice lives in {city}",
        content=f"Alice lives in {city}.", attributes={"kind": "person"},
        valid_from=datetime(year, 3, 1, tzinfo=UTC),
    )  # fmt: skip


def test_recall_marks_superseded_facts_and_read_goes_back_in_time(
    engine: Engine,  # noqa: F811
    server: MCPServer,  # noqa: F811
) -> None:
    ctx = RequestContext("acme", "alice")
    engine.remember([_home("Paris", 2019)], ctx)
    engine.remember([_home("Berlin", 2024)], ctx)
    found = call(server, "recall", query="where does Alice live")["results"]
    assert [(r["uri"], r["superseded"]) for r in found[:2]] == [
        (HOME, False), (HOME + ".v1", True),
    ]  # fmt: skip
    past = call(server, "recall", query="where did Alice live", as_of="2022-01-01")["results"]
    assert past[0]["uri"] == HOME + ".v1"
    node = call(server, "read", uri=HOME, as_of="2022-01-01")
    assert node["abstract"] == "Alice lives in Paris" and node["valid_to"].startswith("2024-03")
