"""Raw mode remembers every message whatever its length: no text it builds exceeds its schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core.models import ContextType, SessionStatus
from ogmem.index.embedders import HashEmbedder

START = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)
# around each limit of the event schema (abstract 300, overview 2,000, content 20,000) and far
# beyond it; 2,044 is the message that was once dropped for its overview
LENGTHS = (1, 2, 299, 300, 301, 1999, 2000, 2001, 2044, 19999, 20000, 20001, 200_000)
_PROSE = "Caroline went to the support group on Tuesday and it was powerful. "


def _text(length: int) -> str:
    """Prose of exactly ``length`` characters, no blank at either end."""
    body = (_PROSE * (length // len(_PROSE) + 1))[: length - 1]
    return body + "x"


@pytest.mark.parametrize("preceded", [False, True], ids=["alone", "after-another"])
@pytest.mark.parametrize("length", LENGTHS)
def test_every_message_is_remembered_whatever_its_length(length: int, preceded: bool) -> None:
    ctx = RequestContext("acme", "caroline", session_id=f"s-{length}-{preceded}")
    messages = [Message("user", _text(length), START, "m2", "Caroline")]
    if preceded:  # as long as the message itself: the context level bounds both sides
        before = Message("assistant", _text(length), START - timedelta(minutes=1), "m1", "Mel")
        messages.insert(0, before)

    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        engine.ingest(messages, ctx)
        state = engine.commit(ctx.session_id or "", ctx, wait=True)
        drained = engine.drain()
        tree = engine.tree("ctx://acme/users/caroline/memories", ctx)

    assert state.status is SessionStatus.COMMITTED, state.last_error
    assert state.failed == 0, state.last_reason
    assert state.written >= 1
    memories = [n for n in tree if n.context_type is ContextType.MEMORY]
    assert {m for n in memories for m in n.metadata["source_message_ids"]} == {"m2"}
    assert drained.dead_lettered == 0
