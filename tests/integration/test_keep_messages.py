"""LLM mode keeps the messages: beside the model's typed memories, each message is remembered
raw, so a fact the model left out is still found (keep_messages, on by default)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core import errors
from ogmem.core.models import ContextNode, ContextType
from ogmem.core.ports import LLMResponse, ToolCall
from ogmem.index.embedders import HashEmbedder
from ogmem.llm.scripted import ScriptedLLM
from ogmem.settings import Settings

CTX = RequestContext("acme", "caroline", session_id="s1")
START = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
TALK = (
    "I'm Caroline, I work as a nurse in Hamburg.",
    "My neighbour's parrot is called Captain Kiwi.",  # the model below leaves this out
)
PROFILE = {
    "abstract": "Caroline is a nurse in Hamburg",
    "content": "Caroline works as a nurse in Hamburg.",
    "source_message_ids": ["m1"],
}


def _model(messages: Sequence[Mapping[str, Any]]) -> str | LLMResponse:
    """Finds the job in the first message and nothing else."""
    prompt = str(messages[0]["content"])
    if "find the passages" in prompt:
        return json.dumps({"spans": [{"start": 0, "end": 0, "categories": ["profile"]}]})
    if "remember_* tools" in prompt:
        call = ToolCall("remember_profile", dict(PROFILE), json.dumps(PROFILE), "call-1")
        return LLMResponse(tool_calls=(call,))
    return json.dumps({"abstract": "summary", "overview": "summary of the talk"})


def _talk() -> list[Message]:
    return [
        Message("user", text, START + timedelta(minutes=i), f"m{i + 1}", "Caroline")
        for i, text in enumerate(TALK)
    ]


def _memories(engine: Engine) -> list[ContextNode]:
    tree = engine.tree("ctx://acme/users/caroline/memories", CTX)
    return [node for node in tree if node.context_type is ContextType.MEMORY]


def _committed(engine: Engine) -> list[ContextNode]:
    engine.ingest(_talk(), CTX)
    state = engine.commit("s1", CTX, wait=True)
    assert state.status.value == "committed", state.last_error
    engine.drain()
    return _memories(engine)


def test_a_message_the_model_left_out_is_remembered_raw_and_found(engine_url: str) -> None:
    llm = ScriptedLLM(responder=_model)
    with Engine.open(engine_url, llm=llm, embedder=HashEmbedder(), worker=False) as engine:
        memories = _committed(engine)
        kinds = sorted(
            (n.metadata["extraction"], *n.metadata["source_message_ids"]) for n in memories
        )
        assert kinds == [("llm", "m1"), ("raw", "m1"), ("raw", "m2")]
        found = engine.search("Captain Kiwi parrot", CTX, limit=3)
        top = found.nodes[found.hits[0].uri]
        assert top.metadata["source_message_ids"] == ["m2"] and "Captain Kiwi" in top.content


def test_without_keep_messages_only_the_models_memories_are_written(engine_url: str) -> None:
    llm = ScriptedLLM(responder=_model)
    with Engine.open(
        engine_url, llm=llm, embedder=HashEmbedder(), worker=False, keep_messages=False
    ) as engine:
        memories = _committed(engine)
        assert [n.metadata["extraction"] for n in memories] == ["llm"]
        assert not any("Captain Kiwi" in hit.abstract for hit in engine.search("parrot", CTX).hits)


def test_a_model_that_fails_writes_neither_kind_and_the_retry_writes_both() -> None:
    answers: list[Any] = [errors.LLMUnavailable("connection refused")]

    def flaky(messages: Sequence[Mapping[str, Any]]) -> Any:
        return answers.pop() if answers else _model(messages)

    llm = ScriptedLLM(responder=flaky)
    with Engine.open(":memory:", llm=llm, embedder=HashEmbedder(), worker=False) as engine:
        engine.ingest(_talk(), CTX)
        with pytest.raises(errors.CommitFailed):
            engine.commit("s1", CTX, wait=True)
        assert _memories(engine) == []  # the window failed whole: no raw memory without the rest
        engine.commit("s1", CTX, wait=True)
        assert sorted(n.metadata["extraction"] for n in _memories(engine)) == ["llm", "raw", "raw"]


def test_the_setting_reads_true_and_false_and_names_a_bad_value() -> None:
    assert Settings.from_env({}).keep_messages is True
    assert Settings.from_env({"OGMEM_KEEP_MESSAGES": "false"}).keep_messages is False
    assert Settings.from_env({"OGMEM_KEEP_MESSAGES": "On"}).keep_messages is True
    with pytest.raises(errors.ConfigurationError, match="OGMEM_KEEP_MESSAGES='maybe'"):
        Settings.from_env({"OGMEM_KEEP_MESSAGES": "maybe"})


def test_compose_says_a_fact_once_when_the_model_extracted_it_from_the_message() -> None:
    llm = ScriptedLLM(responder=_model)
    with Engine.open(":memory:", llm=llm, embedder=HashEmbedder(), worker=False) as engine:
        _committed(engine)
        query = "Caroline nurse Hamburg parrot Captain Kiwi"
        searched = engine.search(query, CTX, limit=10)
        source = {hit.uri: searched.nodes[hit.uri].metadata for hit in searched.hits}
        kinds = sorted((m["extraction"], *m["source_message_ids"]) for m in source.values())
        assert kinds == [("llm", "m1"), ("raw", "m1"), ("raw", "m2")]
        block = engine.compose(query, CTX)
    # m1's raw memory is left out, the profile the model wrote from m1 says it; m2 was
    # extracted by nobody, so its raw memory stays
    composed = sorted((source[uri]["extraction"], *source[uri]["source_message_ids"])
                      for uri in block.uris)  # fmt: skip
    assert composed == [("llm", "m1"), ("raw", "m2")]
    assert "works as a nurse" in block.text and "Captain Kiwi" in block.text
