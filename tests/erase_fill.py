"""A user written into every kind of row (for the erase tests): memories with history, a
deleted one (an index tombstone), directory summaries, a committed session (messages,
archive parts, summary, raw memories), index and full-text rows (with CJK terms), recall
signals, idempotency records, an API key, and outbox events pending, done and dead-lettered
(one with its error quoting the user), one of another user's events naming this user."""

from __future__ import annotations

from dataclasses import dataclass

from ogmem.core import uri
from ogmem.core.models import EventStatus, EventType, Message, OutboxEvent, RequestContext
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder

CJK = "鳳梨罐頭"  # a word of CJK script: its record's ``terms`` column holds its pieces


@dataclass(frozen=True)
class Person:
    account: str
    user: str
    canary: str  # a word only this person's texts contain

    @property
    def ctx(self) -> RequestContext:
        return RequestContext(self.account, self.user, session_id=f"chat-{self.user}")

    @property
    def root(self) -> str:
        return str(uri.user_root(self.account, self.user))


def open_engine(store: str) -> Engine:
    return Engine.open(store, embedder=HashEmbedder(), worker=False)


def fill(engine: Engine, who: Person, neighbour: Person | None = None) -> None:
    ctx, word = who.ctx, who.canary
    first = engine.add(f"{word} drinks green tea {CJK}", ctx, category="preference")
    engine.add(f"{word} drinks green tea daily {CJK}", ctx, category="preference")  # history
    gone = engine.add(f"{word} once lived in Oslo", ctx)
    engine.after_turn(
        [Message("user", f"My cat is called {word}.", message_id="m1"),
         Message("assistant", f"{word} is a fine name.", message_id="m2")], ctx,
    )  # fmt: skip
    engine.commit(ctx.session_id or "", ctx, wait=True)
    engine.drain()
    engine.search(word, ctx)  # recall signals
    engine.dreaming.dreamer.run(ctx)  # a dream run's record names the user's memories
    assert gone.uri is not None
    engine.delete(gone.uri, ctx)  # a tombstone of its index records
    engine.drain()
    engine.keys.create(who.account, who.user, name=f"key of {word}")
    assert first.uri is not None
    _events(engine, who, first.uri, neighbour)
    engine.add(f"{word} plays chess", ctx)  # pending, not drained


def _events(engine: Engine, who: Person, node_uri: str, neighbour: Person | None) -> None:
    outbox = engine.backend.outbox
    failed = OutboxEvent(
        who.account, EventType.UPSERT_CONTEXT, node_uri, {"note": who.canary},
        status=EventStatus.DLQ, attempts=5, last_error=f"could not embed {who.canary}",
    )  # fmt: skip
    outbox.import_event(failed)
    if neighbour is not None:  # an event of the neighbour's space that names this user
        moved = {"moved_to": who.root + "/memories/events/x"}
        there = neighbour.root + "/memories/events/x"
        outbox.import_event(OutboxEvent(who.account, EventType.DELETE_CONTEXT, there, moved))
