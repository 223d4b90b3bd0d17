"""Schemathesis over the app's own OpenAPI document: no 5xx, and every answer is documented.

Generated requests, valid and invalid, go to every operation: with an account key, with a key
bound to one user, and with no key. Each response must have a documented status code and
content type and a body that matches the documented schema. The run is bounded and
derandomized: the same ~575 cases every time, ~15 s on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from ogmem.core.models import RequestContext
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.server import models as m
from ogmem.server.app import create_app


def _document() -> dict[str, Any]:
    # the document does not depend on the data: it is read once, at collection
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        return create_app(engine).openapi()


# Only the fuzzing phase, positive and negative cases: the coverage phase alone would send
# thousands of boundary cases. The pytest plugin's lazy loader (`from_fixture`) fails on
# pytest 9.2 (it sets `Node._nodeid`), so the document is loaded eagerly and the app, built
# by a fixture, is passed to each call.
def _schema(*, generate_auth: bool) -> schemathesis.BaseSchema:
    generation = {"mode": "all", "deterministic": True, "database": "none",
                  "with-security-parameters": generate_auth}  # fmt: skip
    config = schemathesis.Config.from_dict(
        {
            "seed": 20240601,
            "warnings": False,
            "generation": generation,
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_dict(DOCUMENT, config=config)


DOCUMENT = _document()
# with a key: the test sends the key, schemathesis does not generate (and break) the header
schema = _schema(generate_auth=False)
# without a key: schemathesis sends none, or a generated, malformed Authorization header
anonymous = _schema(generate_auth=True)

# documented status, content type and body, and never a 5xx
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# one engine serves all the examples of an operation: the state they build up is the point
SETTINGS: dict[str, Any] = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": [hypothesis.HealthCheck.function_scoped_fixture],
}

NODE = "ctx://A/users/alice/memories/preferences/editor"
# random text is almost never a valid ctx:// URI (every fs call would be a 422): a generated
# URI is swapped for one of these, picked by the generated text's length
URIS = (
    NODE,
    "ctx://A/users/alice/memories/preferences",
    "ctx://A/users/alice",
    "ctx://A/users/alice/memories/preferences/nothing",
    "ctx://A/agents/bot/memories/cases/c1",
    "ctx://B/users/alice/memories/preferences/editor",
    "ctx://A",
)


@dataclass(frozen=True)
class Served:
    app: FastAPI
    account: dict[str, str]  # account A's key
    alice: dict[str, str]  # account A, bound to user alice


@pytest.fixture
def served() -> Iterator[Served]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        keys = engine.keys
        account, alice = keys.create("A", name="a")[1], keys.create("A", "alice", name="al")[1]
        memory = m.MemoryIn(category="preference", routing_key="editor", abstract="Prefers vim",
                            content="Alice edits code in vim.")  # fmt: skip
        ctx = RequestContext("A", "alice", session_id="s1")
        engine.remember([memory.to_candidate()], ctx)
        message = m.MessageIn(role="user", content="I adopted a puppy called Rex.")
        engine.after_turn([message.to_message()], ctx)
        yield Served(
            create_app(engine),
            {"Authorization": f"Bearer {account}"},
            {"Authorization": f"Bearer {alice}"},
        )


def _steer(case: Case) -> None:
    """Point part of the generated ids and URIs at the seeded data, so 200s get checked too.

    Only valid cases are steered, to valid values: an invalid case must stay invalid.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    for container in (case.query, case.body, case.path_parameters):
        if not isinstance(container, dict):
            continue
        for name in ("uri", "src", "dst"):
            value = container.get(name)
            if isinstance(value, str) and len(value) % 8 != 7:
                container[name] = URIS[len(value) % 8]
        if isinstance(container.get("user_id"), str) and len(container["user_id"]) % 4 != 3:
            container["user_id"] = "alice"
        if isinstance(container.get("session_id"), str) and len(container["session_id"]) % 2:
            container["session_id"] = "s1"


# On pytest 9.2 the items of one test share a node id (schemathesis names them through
# `Node._nodeid`): `-k` still selects by operation, and a failure shows the request it sent.
@schema.parametrize()
@hypothesis.settings(max_examples=25, **SETTINGS)
def test_account_key_requests_conform(case: Case, served: Served) -> None:
    _steer(case)
    checks = [*CHECKS, negative_data_rejection]  # an invalid request is refused with a 4xx
    case.call_and_validate(app=served.app, headers=served.account, checks=checks)


@schema.parametrize()
@hypothesis.settings(max_examples=6, **SETTINGS)
def test_user_bound_key_requests_conform(case: Case, served: Served) -> None:
    _steer(case)
    case.call_and_validate(app=served.app, headers=served.alice, checks=CHECKS)


@anonymous.parametrize()
@hypothesis.settings(max_examples=4, **SETTINGS)
def test_requests_without_a_key_conform(case: Case, served: Served) -> None:
    case.call_and_validate(app=served.app, checks=CHECKS)


def test_not_ready_is_documented() -> None:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        app = create_app(engine, worker_expected=True)
        case = schema["/readyz"]["GET"].Case()
        response = case.call_and_validate(app=app, checks=CHECKS[1:])  # a 503 is the point
    assert response.status_code == 503  # the worker was expected and does not run
