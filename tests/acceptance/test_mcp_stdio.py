"""The MCP server as an agent runs it: a subprocess over stdio, driven by the MCP SDK client."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent


def _json(result: CallToolResult) -> Any:
    assert not result.is_error, result.content
    block = result.content[0]
    assert isinstance(block, TextContent)
    return json.loads(block.text)


async def _session_script(params: StdioServerParameters) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with anyio.fail_after(60):  # a hung server fails the test instead of hanging it
        await _drive(params, seen)
    return seen


async def _drive(params: StdioServerParameters, seen: dict[str, Any]) -> None:
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        seen["tools"] = {tool.name for tool in (await session.list_tools()).tools}
        seen["remember"] = _json(
            await session.call_tool("remember", {"text": "My favourite tea is genmaicha."})
        )
        seen["recall"] = _json(await session.call_tool("recall", {"query": "favourite tea"}))
        uri = seen["remember"]["memories"][0]["uri"]
        seen["forget"] = _json(await session.call_tool("forget", {"uri": uri}))
        seen["recall_after"] = _json(await session.call_tool("recall", {"query": "tea"}))
        seen["missing"] = await session.call_tool("read", {"uri": uri + "-nope"})


def test_remember_recall_forget_over_stdio(tmp_path: Path) -> None:
    store = tmp_path / "mcp.sqlite"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OGMEM_")},
        "OGMEM_STORE": str(store),
        "OGMEM_EMBEDDER": "hash",
        "OGMEM_MCP_ACCOUNT": "acme",
        "OGMEM_MCP_USER": "alice",
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from ogmem.cli import main; main()", "mcp"],
        env=env,
        cwd=str(tmp_path),
    )
    seen = anyio.run(_session_script, params)

    assert seen["tools"] == {"remember", "add_memory", "recall", "compose", "read", "ls", "forget"}
    remembered = seen["remember"]
    assert remembered["written"] == 1
    uri = remembered["memories"][0]["uri"]
    assert uri.startswith("ctx://acme/users/alice/memories/")
    assert seen["recall"]["results"][0]["uri"] == uri
    assert "genmaicha" in seen["recall"]["results"][0]["abstract"]
    assert seen["forget"]["status"] == "ARCHIVED"
    assert uri not in [hit["uri"] for hit in seen["recall_after"]["results"]]
    assert seen["missing"].is_error  # an engine error is a tool error, the server lives on
    assert store.exists()
