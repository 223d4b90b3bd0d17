"""POST /api/v1/memories: the plain form {"text", "user_id"}, batches mixing plain and typed
items, 207 whenever a memory was not written, the typed form documented in the OpenAPI
document; the Python client's add() and what it returns."""

from __future__ import annotations

from typing import Any

from ogmem.client import Client
from ogmem.core.models import RequestContext
from tests.server.conftest import Api

MEMORIES = "/api/v1/memories"


def _post(api: Api, body: dict[str, Any]) -> Any:
    return api.client.post(MEMORIES, json=body, headers=api.a)


def test_a_plain_text_is_a_memory(api: Api) -> None:
    response = _post(api, {"text": "I moved to Lisbon. It is sunny.", "user_id": "alice"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["complete"] is True and (body["written"], body["skipped"], body["failed"]) == (
        1,
        0,
        0,
    )
    uri = body["results"][0]["uri"]
    assert uri.startswith("ctx://A/users/alice/memories/events/moved-lisbon-sunny-")
    node = api.engine.read(uri, RequestContext("A", "alice"))
    assert (
        node.abstract == "I moved to Lisbon." and node.content == "I moved to Lisbon. It is sunny."
    )


def test_a_plain_text_with_category_time_and_metadata(api: Api) -> None:
    body = {"text": "Anna is my sister.", "user_id": "alice", "category": "entity",
            "metadata": {"kind": "person", "source": "chat"}}  # fmt: skip
    result = _post(api, body).json()["results"][0]
    node = api.engine.read(result["uri"], RequestContext("A", "alice"))
    assert node.metadata["attributes"]["kind"] == "person"
    assert node.metadata["custom"] == {"source": "chat"}
    event = _post(api, {"text": "Trip to Porto.", "user_id": "alice", "when": "2023-05"})
    uri = event.json()["results"][0]["uri"]
    assert api.engine.read(uri, RequestContext("A", "alice")).metadata["when"] == "2023-05"


def test_a_batch_with_a_skipped_or_failed_item_answers_207(api: Api) -> None:
    memories = [
        {"text": "Prefers tea.", "category": "preference"},
        {"category": "preference", "routing_key": "editor", "abstract": "Prefers vim",
         "content": "Alice edits code in vim."},
        {"text": "Lint before committing.", "category": "pattern"},  # an agent's: no agent_id
        {"category": "entity", "routing_key": "anna", "abstract": "Anna", "content": "Anna"},
    ]  # fmt: skip
    response = _post(api, {"user_id": "alice", "memories": memories})
    assert response.status_code == 207, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["written", "written", "skipped", "failed"]
    assert (body["written"], body["skipped"], body["failed"], body["complete"]) == (2, 1, 1, False)
    assert "kind" in body["results"][3]["error"]  # names the missing type field
    again = _post(api, {"text": "Prefers tea.", "category": "preference", "user_id": "alice"})
    assert again.status_code == 207 and "already applied" in again.json()["results"][0]["reason"]


def test_a_body_with_neither_text_nor_memories_says_what_to_send(api: Api) -> None:
    error = _post(api, {"user_id": "alice"}).json()["error"]
    assert "text (one memory) or memories (a batch)" in error["message"]
    blank = _post(api, {"user_id": "alice", "text": "  "})
    assert blank.status_code == 422 and "blank" in blank.json()["error"]["message"]
    mixed = _post(api, {"user_id": "alice", "memories": [{"text": "x", "abstract": "y"}]})
    assert mixed.json()["error"]["message"].startswith("memories[0].abstract")


def test_the_openapi_document_describes_both_forms_and_each_type(api: Api) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    attributes = schemas["MemoryIn"]["properties"]["attributes"]["description"]
    assert "- entity: entity_name? (string), kind (person|project" in attributes
    assert (
        "- case: problem (string), solution (string)" in attributes
        and "needs agent_id" in attributes
    )
    assert "when required" in attributes  # event
    assert any(e["category"] == "event" for e in schemas["MemoryIn"]["examples"])
    assert schemas["PlainAddIn"]["properties"]["text"]["description"]
    responses = api.client.get("/openapi.json").json()["paths"][MEMORIES]["post"]["responses"]
    assert "207" in responses


def test_the_client_adds_and_surfaces_what_was_not_written(api: Api) -> None:
    with Client("http://testserver", api.key_a, http_client=api.client) as client:
        added = client.add("Prefers green tea.", "alice", category="preference",
                           metadata={"source": "cli"})  # fmt: skip
        assert added["complete"] and added["results"][0]["status"] == "written"
        repeat = client.add("Prefers green tea.", "alice", category="preference")
        assert repeat["complete"] is False and repeat["skipped"] == 1
        batch = client.remember([{"text": "Went hiking."}, {"category": "nope", "abstract": "a",
                                 "content": "b"}], "alice")  # fmt: skip
        assert batch["complete"] is False and batch["failed"] == 1
