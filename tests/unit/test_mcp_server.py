"""The MCP tools, called in-process on the server object over an in-memory engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import mcp
import pytest
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import TextContent

from ogmem import mcp_server
from ogmem.core import errors
from ogmem.core.models import NodeStatus, RequestContext
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.mcp_server import build_server
from ogmem.net import is_loopback

TOOLS = {"remember", "add_memory", "recall", "compose", "read", "ls", "forget"}


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        yield opened


@pytest.fixture
def server(engine: Engine) -> MCPServer:
    return build_server(engine, account_id="acme", user_id="alice")


def call(server: MCPServer, tool: str, **arguments: Any) -> Any:
    """The tool's structured answer; a tool returning text gives {"result": text}."""

    async def go() -> Any:
        return await server.call_tool(tool, arguments)

    result = anyio.run(go)
    assert not result.is_error, result.content
    return result.structured_content


def remember_text(server: MCPServer, text: str) -> str:
    answer = call(server, "remember", text=text)
    assert answer["written"] == 1, answer
    return str(answer["memories"][0]["uri"])


def test_the_tools_are_described_for_the_model(server: MCPServer) -> None:
    tools = {tool.name: tool for tool in anyio.run(server.list_tools)}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 60, tool.name
    assert tools["recall"].annotations and tools["recall"].annotations.read_only_hint
    assert tools["forget"].annotations and tools["forget"].annotations.destructive_hint
    schema = tools["remember"].input_schema
    assert set(schema["properties"]) == {"text", "messages", "session_id"}
    assert "required" not in schema  # text or messages: checked by the tool itself


def test_remember_text_says_what_was_written_and_why(server: MCPServer, engine: Engine) -> None:
    answer = call(server, "remember", text="I prefer dark roast coffee in the morning.")
    assert answer["status"] == "committed"
    assert (answer["written"], answer["skipped"], answer["failed"]) == (1, 0, 0)
    assert "1 written" in answer["why"]
    [memory] = answer["memories"]
    assert memory["uri"].startswith("ctx://acme/users/alice/memories/events/")
    assert "dark roast coffee" in memory["abstract"]
    ctx = RequestContext("acme", "alice")
    assert engine.session(answer["session_id"], ctx).written == 1


def test_remember_messages_in_one_session(server: MCPServer) -> None:
    messages = [
        {"role": "user", "content": "My sister Ana lives in Porto.", "name": "Alice"},
        {"role": "assistant", "content": "Noted, Porto is lovely."},
        {"content": "She is a marine biologist."},  # role defaults to user
    ]
    answer = call(server, "remember", messages=messages, session_id="chat-7")
    assert answer["session_id"] == "chat-7"
    # raw mode (no LLM) keeps the user's messages as events
    assert answer["written"] == 2 and len(answer["memories"]) == 2
    again = call(server, "remember", text="Ana has two cats.", session_id="chat-7")
    # this call's outcome, not the session's running totals
    assert again["written"] == 1 and len(again["memories"]) == 1
    assert "two cats" in again["memories"][0]["abstract"]


def test_nothing_written_comes_with_the_reason(server: MCPServer) -> None:
    answer = call(server, "remember", messages=[{"role": "assistant", "content": "Hello!"}])
    assert (answer["written"], answer["memories"]) == (0, [])
    assert "found nothing durable in 1 messages" in answer["why"]


def test_recall_finds_what_was_remembered(server: MCPServer) -> None:
    uri = remember_text(server, "I prefer dark roast coffee in the morning.")
    remember_text(server, "My bicycle is a green Brompton.")
    answer = call(server, "recall", query="coffee roast", limit=5)
    best = answer["results"][0]
    assert best["uri"] == uri and "coffee" in best["abstract"]
    assert isinstance(best["score"], float) and best["score"] > 0
    only = call(server, "recall", query="coffee", categories=["preference"])
    assert only["results"] == []


def test_compose_builds_a_block_within_the_budget(server: MCPServer) -> None:
    remember_text(server, "I prefer dark roast coffee in the morning.")
    block = call(server, "compose", query="what coffee?", token_budget=200)["result"]
    assert "dark roast coffee" in block
    assert call(server, "compose", query="anything", token_budget=50)["result"] is not None


def test_read_and_ls(server: MCPServer) -> None:
    uri = remember_text(server, "I prefer dark roast coffee in the morning.")
    node = call(server, "read", uri=uri)
    assert node["uri"] == uri and node["status"] == "ACTIVE" and node["version"] == 1
    assert "dark roast coffee" in node["content"]
    root = call(server, "ls")
    assert root["uri"] == "ctx://acme/users/alice/memories"
    assert [e["uri"] for e in root["entries"]] == ["ctx://acme/users/alice/memories/events/"]
    events = call(server, "ls", uri="ctx://acme/users/alice/memories/events")
    assert [e["uri"] for e in events["entries"]] == [uri]


def test_forget_archives_and_recall_no_longer_finds_it(server: MCPServer, engine: Engine) -> None:
    uri = remember_text(server, "I live in Lyon.")
    assert call(server, "recall", query="Lyon")["results"][0]["uri"] == uri
    answer = call(server, "forget", uri=uri)
    assert answer == {"uri": uri, "status": "ARCHIVED", "version": 2}
    assert engine.read(uri, RequestContext("acme", "alice")).status is NodeStatus.ARCHIVED
    assert uri not in [hit["uri"] for hit in call(server, "recall", query="Lyon")["results"]]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("read", {"uri": "ctx://acme/users/alice/memories/events/nope"}, "NotFound: no node"),
        ("read", {"uri": "ctx://other/users/bob/memories/x"}, "NotFound"),
        ("read", {"uri": "not a uri"}, "InvalidURI"),
        ("forget", {"uri": "ctx://acme/users/alice/memories/events/nope"}, "NotFound"),
        ("ls", {"uri": "http://example.com"}, "InvalidURI"),
        ("remember", {}, "nothing to remember"),
        ("remember", {"text": "x" * 200_001}, "InvalidInput"),
        ("recall", {"query": "q", "limit": 0}, "limit"),
    ],
)
def test_errors_are_tool_errors_with_the_message(
    server: MCPServer, tool: str, arguments: dict[str, Any], message: str
) -> None:
    async def go() -> Any:
        return await server.call_tool(tool, arguments)

    with pytest.raises(ToolError, match=message):
        anyio.run(go)


def test_over_the_protocol_an_error_is_an_error_result_not_a_crash(server: MCPServer) -> None:
    async def go() -> tuple[mcp.types.CallToolResult, mcp.types.CallToolResult]:
        async with mcp.Client(server) as client:
            failed = await client.call_tool("read", {"uri": "ctx://acme/users/alice/nope"})
            ok = await client.call_tool("ls", {})
            return failed, ok

    failed, ok = anyio.run(go)
    assert failed.is_error
    assert isinstance(failed.content[0], TextContent)
    assert "NotFound: no node at ctx://acme/users/alice/nope" in failed.content[0].text
    assert not ok.is_error


def test_agent_scoped_server_reads_the_agent_space_too(engine: Engine) -> None:
    server = build_server(engine, account_id="acme", user_id="alice", agent_id="coder")
    uri = remember_text(server, "The build uses make.")
    assert call(server, "recall", query="build make")["results"][0]["uri"] == uri


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_mcp_over_http_refuses_an_address_reachable_from_elsewhere(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[object] = []
    monkeypatch.setattr(mcp_server.wiring, "open_engine", lambda *a, **k: opened.append(a))
    with pytest.raises(errors.ConfigurationError, match="loopback only"):
        mcp_server.run("http", host=host)
    assert opened == []  # refused before any store is opened


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("10.0.0.1", False), ("my-host", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_add_memory_stores_the_text_as_given(server: MCPServer, engine: Engine) -> None:
    answer = call(server, "add_memory", text="Prefers tabs over spaces.", category="preference")
    assert answer["status"] == "written", answer
    node = engine.read(answer["uri"], RequestContext("acme", "alice"))
    assert node.content == "Prefers tabs over spaces." and node.category == "preference"
    again = call(server, "add_memory", text="Prefers tabs over spaces.", category="preference")
    assert again["status"] == "skipped" and "already applied" in again["why"]
    event = call(server, "add_memory", text="Trip to Porto.", when="2023-05-01")
    assert "/memories/events/trip-porto-" in event["uri"]
