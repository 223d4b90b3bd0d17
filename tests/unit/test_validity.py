"""Time rules without a store: durations and ttl, fact starts, decay weights, the order search
gives hits by validity, the merge's relation, and read_as_of's walk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from ogmem import wiring
from ogmem.commit import lifetimes, merge, supersede
from ogmem.core import errors
from ogmem.core.models import CandidateMemory, ContextNode, ContextType
from ogmem.llm.scripted import ScriptedLLM
from ogmem.retrieval.decay import Decay
from ogmem.retrieval.search import SearchHit
from ogmem.retrieval.validity import Timeline
from ogmem.schemas import durations, registry
from ogmem.settings import Settings
from tests.unit.test_registry import doc_with

NOW = datetime(2026, 12, 1, tzinfo=UTC)
PAST = datetime(2024, 3, 1, tzinfo=UTC)


def _node(name: str, **fields: object) -> ContextNode:
    values: dict[str, object] = {
        "account_id": "acme", "uri": f"ctx://acme/users/bob/memories/entities/{name}",
        "context_type": ContextType.MEMORY, "category": "entity", "owner_space": "user:bob",
        "abstract": name, "updated_at": NOW,
    }  # fmt: skip
    values.update(fields)
    return ContextNode(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2)),
     (" 90 m ", timedelta(minutes=90)), ("45s", timedelta(seconds=45))],
)  # fmt: skip
def test_durations(text: str, expected: timedelta) -> None:
    assert durations.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "30", "d", "3y", "-1d", "1.5h"])
def test_a_bad_duration_says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="like 30d"):
        durations.parse_duration(text)


def test_a_type_ttl_is_parsed_and_a_bad_one_names_the_field() -> None:
    assert registry.parse_type(doc_with(ttl="30d"), source="<t>").ttl == timedelta(days=30)
    assert registry.parse_type(doc_with(), source="<t>").ttl is None
    with pytest.raises(errors.SchemaError) as exc:
        registry.parse_type(doc_with(ttl="soon"), source="<t>")
    assert (exc.value.file, exc.value.field) == ("<t>", "ttl")


def test_expiry_is_the_memory_own_else_the_type_ttl() -> None:
    typed = registry.parse_type(doc_with(ttl="1d"), source="<t>")
    plain = CandidateMemory(category="habit", abstract="a", content="a")
    assert lifetimes.expires_at(plain, typed, NOW) == NOW + timedelta(days=1)
    own = CandidateMemory(category="habit", abstract="a", content="a", expires_at=PAST)
    assert lifetimes.expires_at(own, typed, NOW) == PAST
    untimed = registry.parse_type(doc_with(), source="<t>")
    assert lifetimes.expires_at(plain, untimed, NOW) is None


@pytest.mark.parametrize(
    ("when", "start"),
    [("2024", datetime(2024, 1, 1, tzinfo=UTC)), ("2024-05", datetime(2024, 5, 1, tzinfo=UTC)),
     ("2024-05-07T10:00:00+02:00", datetime(2024, 5, 7, tzinfo=UTC)), ("soon", None),
     ("2024-13-01", None), (None, None)],
)  # fmt: skip
def test_date_start(when: str | None, start: datetime | None) -> None:
    assert lifetimes.date_start(when) == start


def test_decay_weight_halves_towards_the_floor_and_a_recall_refreshes() -> None:
    decay = Decay(half_life_days=10, floor=0.5)
    assert decay.weight(_node("a"), None, NOW) == 1.0
    old = _node("b", valid_from=NOW - timedelta(days=10))
    assert decay.weight(old, None, NOW) == pytest.approx(0.75)
    assert decay.weight(old, NOW - timedelta(days=1), NOW) > 0.96
    with pytest.raises(errors.ConfigurationError, match="half_life_days"):
        Decay(half_life_days=0)


class _Recalls:
    def __init__(self, recalls: dict[str, datetime]) -> None:
        self.recalls = recalls

    def last_recalls(self, account_id: str, uris: Sequence[str]) -> dict[str, datetime]:
        return {u: self.recalls[u] for u in uris if u in self.recalls}


def _hits(*nodes: ContextNode) -> list[SearchHit]:
    return [SearchHit(n.uri, n.category, n.abstract, 0.5, 0, "", rank_score=1.0 - i / 10)
            for i, n in enumerate(nodes)]  # fmt: skip


def _arrange(
    nodes: Sequence[ContextNode],
    as_of: datetime | None = None,
    decay: Decay | None = None,
    recalls: dict[str, datetime] | None = None,
) -> list[str]:
    timeline = Timeline(_Recalls(recalls or {}), decay)  # type: ignore[arg-type]
    by_uri = {n.uri: n for n in nodes}
    found = timeline.arrange("acme", _hits(*nodes), by_uri, as_of=as_of, now=NOW, limit=10)
    return [h.abstract + ("*" if h.superseded else "") for h in found]


def test_ended_facts_sink_and_are_marked_expired_ones_vanish() -> None:
    paris = _node("paris", valid_to=PAST)
    berlin = _node("berlin", valid_from=PAST)
    gone = _node("gone", expires_at=NOW - timedelta(seconds=1))
    future = _node("future", valid_from=NOW + timedelta(days=5))
    assert _arrange([paris, gone, berlin, future]) == ["berlin", "future", "paris*"]
    in_2022 = datetime(2022, 1, 1, tzinfo=UTC)
    assert _arrange([berlin, future, paris], as_of=in_2022) == ["paris", "berlin", "future"]


def test_decay_reorders_by_weight_and_off_keeps_scores() -> None:
    fresh = _node("fresh", valid_from=NOW)
    stale = _node("stale", valid_from=NOW - timedelta(days=3650))
    assert _arrange([stale, fresh]) == ["stale", "fresh"]
    assert _arrange([stale, fresh], decay=Decay()) == ["fresh", "stale"]
    recalled = {stale.uri: NOW}
    assert _arrange([stale, fresh], decay=Decay(), recalls=recalled) == ["stale", "fresh"]


def _answer(**fields: str) -> str:
    base = {"abstract": "Lives in Berlin", "overview": "", "content": "Lives in Berlin."}
    return json.dumps({**base, **fields})


@pytest.mark.parametrize(
    ("answer", "method", "relation"),
    [(_answer(relation="supersedes"), "llm", "supersedes"), (_answer(relation="adds"), "llm",
      "adds"), (_answer(), "llm", "adds"), (_answer(relation="maybe"), "deterministic", "adds")],
)  # fmt: skip
def test_the_merge_relation_comes_from_the_llm(answer: str, method: str, relation: str) -> None:
    entity = registry.SchemaRegistry.load().get("entity")
    incoming = CandidateMemory(category="entity", abstract="Lives in Berlin", content="Berlin")
    fields = merge.merge(ScriptedLLM([answer]), entity, _node("home"), incoming)
    assert (fields.method, fields.relation) == (method, relation)


def test_the_deterministic_rule_needs_a_later_valid_from() -> None:
    def candidate(start: datetime | None) -> CandidateMemory:
        return CandidateMemory(category="entity", abstract="x", content="x", valid_from=start)

    assert not supersede.states_replacement(candidate(None), _node("a"))
    assert supersede.states_replacement(candidate(PAST), _node("a"))
    assert supersede.states_replacement(candidate(PAST.replace(tzinfo=None)), _node("a"))
    started = _node("a", valid_from=PAST)
    assert not supersede.states_replacement(candidate(PAST - timedelta(days=1)), started)
    assert supersede.states_replacement(candidate(PAST + timedelta(days=1)), started)


def test_decay_is_off_unless_its_half_life_is_set() -> None:
    assert wiring.decay_from(Settings.from_env({"OGMEM_DATA_DIR": "/tmp/x"})) is None
    on = Settings.from_env({"OGMEM_DATA_DIR": "/tmp/x", "OGMEM_DECAY_HALF_LIFE_DAYS": "30"})
    assert wiring.decay_from(on) == Decay(half_life_days=30.0)
    with pytest.raises(errors.ConfigurationError, match="DECAY_HALF_LIFE_DAYS"):
        Settings.from_env({"OGMEM_DATA_DIR": "/tmp/x", "OGMEM_DECAY_HALF_LIFE_DAYS": "-1"})
