"""An account worth looking at, written through the Engine: two users' memories (one at
version 2), a failed session commit and a dead-lettered event."""

from __future__ import annotations

from dataclasses import dataclass

from ogmem.core.models import CandidateMemory, EventType, Message, OutboxEvent, RequestContext
from ogmem.engine import Engine


@dataclass(frozen=True)
class Seeded:
    editor_uri: str  # alice's preference, written twice (versions 1 and 2)
    pet_uri: str  # bob's
    hike_uri: str  # alice's event
    failed_session: str
    dead_event_id: int


def _fact(
    key: str, abstract: str, content: str, category: str = "preference", when: str | None = None
) -> CandidateMemory:
    return CandidateMemory(
        category=category, routing_key=key, abstract=abstract, content=content, when=when
    )


def seed(engine: Engine, account: str, marker: str = "") -> Seeded:
    """``marker`` goes into every text, so a test can tell one account's data from another's."""
    alice = RequestContext(account, "alice", session_id="s-alice")
    bob = RequestContext(account, "bob", session_id="s-bob")
    first = engine.remember([_fact("editor", f"{marker}Prefers vim", "Uses vim daily")], alice)
    engine.remember([_fact("editor", f"{marker}Prefers vim", "Uses vim daily, neovim at home")],
                    alice)  # fmt: skip
    pet = engine.remember([_fact("pet", f"{marker}Has a dog", "A beagle named Rex")], bob)
    hike = engine.remember(
        [_fact("hike", f"{marker}Hiked Mount Tam", "Hiked in May", "event", "2026-05-03")], alice
    )
    engine.drain()
    failed = "s-broken"
    ctx = RequestContext(account, "alice", session_id=failed)
    engine.ingest([Message("user", f"{marker}I moved to Lisbon last week.")], ctx)
    engine._sessions.record_failure(account, failed, "LLM timed out after 30 s", 120)
    event = OutboxEvent(account, EventType.UPSERT_DIRECTORY, f"ctx://{account}/users/alice")
    engine.outbox.enqueue([event])
    stored = engine.outbox_events(ctx)[-1]
    engine.outbox.dead_letter(stored, f"{marker}summary model unreachable", 5)
    assert first[0].uri and pet[0].uri and hike[0].uri
    return Seeded(first[0].uri, pet[0].uri, hike[0].uri, failed, stored.id or 0)
