"""OwnerSizes: one count of an owner's records serves a user's searches for a while, bounded
in entries, and never asked for a search of the whole account."""

from __future__ import annotations

from typing import Any

from ogmem.store.postgres_index import OwnerSizes


class CountingDatabase:
    """Answers owner_records_count with the records it was told each owner holds."""

    def __init__(self, held: dict[str, int]) -> None:
        self.held = held
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def fetch_all(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        assert query == "owner_records_count"
        owners = tuple(params["owner_spaces"])
        self.asked.append((params["account_id"], owners))
        return [{"n": min(sum(self.held.get(o, 0) for o in owners), params["most"] + 1)}]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _sizes(db: CountingDatabase, clock: Clock, **kwargs: Any) -> OwnerSizes:
    return OwnerSizes(db, 100, ttl_s=60.0, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_a_verdict_is_counted_once_and_trusted_for_its_time() -> None:
    db, clock = CountingDatabase({"user:a": 100, "user:b": 101}), Clock()
    sizes = _sizes(db, clock)
    assert sizes.few("acme", ("user:a",)) is True
    assert sizes.few("acme", ["user:a"]) is True
    assert sizes.few("acme", ("user:b",)) is False
    assert db.asked == [("acme", ("user:a",)), ("acme", ("user:b",))]
    db.held["user:a"] = 5_000  # grew: the verdict holds until its time is up
    clock.now = 59.0
    assert sizes.few("acme", ("user:a",)) is True and len(db.asked) == 2
    clock.now = 61.0
    assert sizes.few("acme", ("user:a",)) is False and len(db.asked) == 3


def test_owners_are_one_key_in_any_order_and_accounts_apart() -> None:
    db, clock = CountingDatabase({"user:a": 60, "agent:x": 60}), Clock()
    sizes = _sizes(db, clock)
    assert sizes.few("acme", ("user:a", "agent:x")) is False  # 120 together
    assert sizes.few("acme", ("agent:x", "user:a")) is False
    assert sizes.few("other", ("user:a", "agent:x")) is False
    assert db.asked == [("acme", ("agent:x", "user:a")), ("other", ("agent:x", "user:a"))]


def test_the_whole_account_is_never_counted() -> None:
    db = CountingDatabase({})
    assert _sizes(db, Clock()).few("acme", None) is False
    assert db.asked == []


def test_the_least_recently_used_verdicts_go_first_past_the_bound() -> None:
    db, clock = CountingDatabase({}), Clock()
    sizes = _sizes(db, clock, entries=2)
    sizes.few("acme", ("user:a",))
    sizes.few("acme", ("user:b",))
    sizes.few("acme", ("user:a",))  # used again: b is now the oldest
    sizes.few("acme", ("user:c",))  # over the bound: b goes
    asked = len(db.asked)
    sizes.few("acme", ("user:a",))
    sizes.few("acme", ("user:c",))
    assert len(db.asked) == asked
    sizes.few("acme", ("user:b",))
    assert db.asked[-1] == ("acme", ("user:b",))


def test_forgetting_an_owner_counts_it_again() -> None:
    db, clock = CountingDatabase({"user:a": 5}), Clock()
    sizes = _sizes(db, clock)
    sizes.few("acme", ("user:a", "agent:x"))
    sizes.few("acme", ("user:b",))
    sizes.forget_owner("acme", "user:a")
    sizes.few("acme", ("user:a", "agent:x"))
    sizes.few("acme", ("user:b",))
    assert db.asked.count(("acme", ("agent:x", "user:a"))) == 2
    assert db.asked.count(("acme", ("user:b",))) == 1
