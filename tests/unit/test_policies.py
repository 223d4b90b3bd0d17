"""Policies are pure: every memory type x node absent/active/archived x owner scope."""

from __future__ import annotations

import pytest

from ogmem.commit import policies
from ogmem.commit.router import PolicyRouter
from ogmem.core.models import CandidateMemory, NodeStatus, WriteAction
from ogmem.schemas.registry import SchemaRegistry
from tests.conftest import make_node
from tests.helpers import memory_store

REGISTRY = SchemaRegistry.load()
TARGET = "ctx://acme/users/alice/memories/x/y"

# what each type's policy does: (absent, active with other content, archived)
EXPECTED = {
    "profile": (WriteAction.CREATE, WriteAction.MERGE, WriteAction.CREATE),
    "preference": (WriteAction.CREATE, WriteAction.MERGE, WriteAction.CREATE),
    "entity": (WriteAction.CREATE, WriteAction.MERGE, WriteAction.CREATE),
    "pattern": (WriteAction.CREATE, WriteAction.MERGE, WriteAction.CREATE),
    "skill": (WriteAction.CREATE, WriteAction.MERGE, WriteAction.CREATE),
    "tool": (WriteAction.CREATE, WriteAction.MERGE, WriteAction.CREATE),
    # add-only targets carry a content hash: a node already there is the same entry
    "event": (WriteAction.CREATE, WriteAction.SKIP, WriteAction.CREATE),
    "case": (WriteAction.CREATE, WriteAction.SKIP, WriteAction.CREATE),
}
SCOPES = {
    "profile": "user", "preference": "user", "entity": "user", "event": "user",
    "case": "agent", "pattern": "agent", "skill": "agent", "tool": "agent",
}  # fmt: skip
EXPECTED_POLICY = {
    "profile": policies.ProfilePolicy,
    "event": policies.AppendOnlyPolicy,
    "case": policies.AppendOnlyPolicy,
}

CASES = [
    (name, state, index)
    for name in sorted(EXPECTED)
    for index, state in enumerate(("absent", "active", "archived"))
]


def _policy(name: str) -> policies.MergePolicy:
    return PolicyRouter(REGISTRY, memory_store()).policy_for(REGISTRY.get(name))


def test_registry_has_exactly_the_tabled_types() -> None:
    assert sorted(REGISTRY.names()) == sorted(EXPECTED)
    assert {n: REGISTRY.get(n).owner_scope for n in EXPECTED} == SCOPES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_router_picks_the_policy_of_the_type(name: str) -> None:
    assert type(_policy(name)) is EXPECTED_POLICY.get(name, policies.AggregateTopicPolicy)


@pytest.mark.parametrize(("name", "state", "index"), CASES)
def test_policy_decision(name: str, state: str, index: int) -> None:
    existing = {
        "absent": None,
        "active": make_node(content="something else entirely", version=4),
        "archived": make_node(content="old", version=4, status=NodeStatus.ARCHIVED),
    }[state]
    candidate = CandidateMemory(category=name, abstract="new fact", content="a new fact")
    plan = _policy(name).plan(candidate, TARGET, existing)
    assert plan.action is EXPECTED[name][index]
    assert plan.target_uri == TARGET
    assert plan.reason
    if plan.action in (WriteAction.MERGE, WriteAction.CREATE):
        assert plan.expected_version == (None if existing is None else 4)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_upsert_of_known_information_is_skipped(name: str) -> None:
    existing = make_node(abstract="fact", content="line one\na new fact", version=2)
    candidate = CandidateMemory(category=name, abstract="a new fact", content="a new fact")
    assert _policy(name).plan(candidate, TARGET, existing).action is WriteAction.SKIP


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize(
    ("operation", "state", "expected"),
    [
        ("archive", "absent", WriteAction.SKIP),
        ("archive", "active", WriteAction.ARCHIVE),
        ("archive", "archived", WriteAction.SKIP),
        ("delete", "absent", WriteAction.SKIP),
        ("delete", "active", WriteAction.DELETE),
        ("delete", "archived", WriteAction.DELETE),
    ],
)
def test_retractions(name: str, operation: str, state: str, expected: WriteAction) -> None:
    existing = {
        "absent": None,
        "active": make_node(version=3),
        "archived": make_node(version=3, status=NodeStatus.ARCHIVED),
    }[state]
    candidate = CandidateMemory(category=name, abstract="x", content="x", operation=operation)  # type: ignore[arg-type]
    plan = _policy(name).plan(candidate, TARGET, existing)
    assert plan.action is expected
    if expected in (WriteAction.ARCHIVE, WriteAction.DELETE):
        assert plan.expected_version == 3
