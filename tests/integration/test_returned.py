"""What is stored and returned (issue 11): session archives only on request, forgotten text
gone from every place search or compose reach, exact repeats skipped, unknown roles refused."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from mcp.server.mcpserver.exceptions import ToolError

from ogmem import Engine, Message, RequestContext
from ogmem.core import errors
from ogmem.core.models import ContextType
from ogmem.index.embedders import HashEmbedder
from ogmem.mcp_server import build_server

CTX = RequestContext("acme", "caroline", session_id="s1")
START = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)
MakeEngine = Callable[..., Engine]


def _messages(*texts: str) -> list[Message]:
    return [
        Message("user", text, START + timedelta(minutes=i), f"m{i + 1}", "Caroline")
        for i, text in enumerate(texts)
    ]


@pytest.fixture
def make_engine(engine_url: str) -> MakeEngine:
    """Engines on each backend (in-memory SQLite, PostgreSQL)."""
    return functools.partial(Engine.open, engine_url, embedder=HashEmbedder(), worker=False)


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def _committed(engine: Engine, *texts: str) -> None:
    engine.ingest(_messages(*texts), CTX)
    engine.commit("s1", CTX, wait=True)
    engine.drain()


def _types(hits: list[Any]) -> set[ContextType]:
    return {hit.context_type for hit in hits}


# -- session archives -------------------------------------------------------------------------


def test_session_archives_are_left_out_of_search_and_compose_unless_asked(
    engine: Engine,
) -> None:
    _committed(engine, "I adopted a cat named Miso.", "Miso sleeps on the piano.")

    default = engine.search("Miso the cat", CTX, limit=20).hits
    with_sessions = engine.search("Miso the cat", CTX, limit=20, include_sessions=True).hits
    block = engine.compose("Miso the cat", CTX, 2000)
    block_with = engine.compose("Miso the cat", CTX, 2000, include_sessions=True)

    assert _types(default) == {ContextType.MEMORY}
    assert ContextType.SESSION in _types(with_sessions)
    assert not any("/sessions/" in uri for uri in block.uris)
    assert "messages)" not in block.text
    assert any("/sessions/" in uri for uri in block_with.uris)


# -- roles ------------------------------------------------------------------------------------


def test_an_unknown_role_is_refused_with_the_allowed_list(engine: Engine) -> None:
    human = [Message("human", "Hello there", START)]

    with pytest.raises(errors.InvalidInput) as raised:
        engine.ingest(human, CTX)
    with pytest.raises(errors.InvalidInput):
        engine.after_turn(human, CTX)

    assert "messages[0].role" in str(raised.value) and "'human'" in str(raised.value)
    assert "user, assistant, system, tool" in str(raised.value)
    assert engine.list_sessions(CTX) == []  # nothing was stored


def test_mcp_remember_refuses_an_unknown_role_as_a_tool_error(engine: Engine) -> None:
    server = build_server(engine, account_id="acme", user_id="caroline")

    async def go() -> Any:
        return await server.call_tool(
            "remember", {"messages": [{"role": "human", "content": "Hi"}]}
        )

    with pytest.raises(ToolError, match="must be one of user, assistant, system, tool"):
        anyio.run(go)


# -- forgetting -------------------------------------------------------------------------------

SECRET = "I moved to Lisbon with Pedro, my secret lover."


def _node_texts(engine: Engine, uris: list[str]) -> str:
    nodes = [engine.read(u, CTX) for u in uris]
    return "\n".join(f"{n.abstract}\n{n.overview}\n{n.content}" for n in nodes)


@pytest.mark.parametrize("how", ["delete", "forget"])
def test_forgetting_a_memory_removes_its_words_from_everything_search_reaches(
    make_engine: MakeEngine, how: str
) -> None:
    with make_engine() as engine:
        _committed(engine, "Hello again.", SECRET, "The weather is great here.")
        (memory,) = [
            h for h in engine.search("Pedro secret lover", CTX).hits if "Pedro" in h.abstract
        ]

        if how == "delete":
            engine.delete(memory.uri, CTX)
        else:
            engine.forget(memory.uri, CTX)
        engine.drain()

        found = engine.search("Pedro secret lover Lisbon", CTX, limit=50, include_sessions=True)
        block = engine.compose("Pedro secret lover", CTX, 4000, include_sessions=True)
        assert found.hits and block.uris  # the other messages and the archive are still there
        assert "Pedro" not in _node_texts(engine, [h.uri for h in found.hits])
        assert "Pedro" not in block.text
        stored = engine.forgetter._sessions.message("acme", "s1", "m2")
        assert stored is not None and stored.message.content == "[forgotten]"
        kept = engine.search("weather great", CTX, include_sessions=True).hits
        assert any("weather" in h.abstract for h in kept)  # only the forgotten words go


# -- exact repeats ----------------------------------------------------------------------------


def _remember(server: Any, **arguments: Any) -> Any:
    async def go() -> Any:
        return await server.call_tool("remember", arguments)

    return anyio.run(go).structured_content


def test_mcp_remember_skips_an_exact_repeat(engine: Engine) -> None:
    server = build_server(engine, account_id="acme", user_id="caroline")

    first = _remember(server, text="I prefer dark roast coffee.")
    again = _remember(server, text="I prefer dark roast coffee.")
    chat = [{"role": "user", "content": "I prefer dark roast coffee."}]
    in_messages = _remember(server, messages=chat, session_id="chat-1")

    assert (first["written"], again["written"], again["skipped"]) == (1, 0, 1)
    assert "duplicate" in again["why"]
    assert (in_messages["written"], in_messages["skipped"]) == (0, 1)
    events = engine.ls("ctx://acme/users/caroline/memories/events", CTX)
    assert len([e for e in events if e.node is not None]) == 1


# -- commits ----------------------------------------------------------------------------------


def test_committing_again_keeps_the_last_commits_reasons_beside_the_new_attempt(
    engine: Engine,
) -> None:
    _committed(engine, "I adopted a cat named Miso.")
    first = engine.session("s1", CTX).last_reason

    again = engine.commit("s1", CTX, wait=True)
    third = engine.commit("s1", CTX, wait=True)

    assert first and first.startswith("1 messages: 1 proposed, 1 written")
    assert again.last_reason == f"{first}; then nothing new to commit"
    assert third.last_reason == again.last_reason  # no pile of repeats
    assert (again.written, again.proposed) == (1, 1)
