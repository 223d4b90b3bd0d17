"""The turn pool's queue (server/turns.py ``Slots``): at most ``size`` holders, the waiter
with the earliest deadline next, an append's deadline its arrival and a read's its arrival
plus the head start; a waiter that goes away gives up its place."""

from __future__ import annotations

import anyio
import pytest

from ogmem.server.turns import Slots


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _order(arrivals: list[tuple[float, str]], head_start_s: float) -> list[str]:
    """Hold the only slot, queue ``arrivals`` (time, 'append' or 'read' name), release it and
    give back the order in which the waiters got the slot."""
    clock = _Clock()
    slots = Slots(1, head_start_s, clock=clock)
    served: list[str] = []

    async def waiter(name: str) -> None:
        await slots.acquire(append=name.startswith("append"))
        served.append(name)
        slots.release()

    async def main() -> None:
        await slots.acquire(append=False)  # the request running now
        async with anyio.create_task_group() as group:
            for at, name in arrivals:
                clock.now = at
                group.start_soon(waiter, name)
                await anyio.wait_all_tasks_blocked()
            slots.release()

    anyio.run(main)
    return served


def test_an_append_that_comes_within_the_head_start_goes_before_a_waiting_read() -> None:
    assert _order([(0.0, "read"), (0.05, "append")], head_start_s=0.1) == ["append", "read"]


def test_a_read_goes_before_appends_that_come_later_than_its_head_start() -> None:
    arrivals = [(0.0, "read"), (0.05, "append-1"), (0.2, "append-2")]
    assert _order(arrivals, head_start_s=0.1) == ["append-1", "read", "append-2"]


def test_waiters_of_one_kind_are_served_first_come_first_served() -> None:
    arrivals = [(0.0, "read-1"), (0.0, "read-2"), (0.0, "append-1"), (0.0, "append-2")]
    assert _order(arrivals, head_start_s=0.0) == ["read-1", "read-2", "append-1", "append-2"]
    assert _order(arrivals, head_start_s=1.0) == ["append-1", "append-2", "read-1", "read-2"]


def test_at_most_size_hold_a_slot_and_a_cancelled_waiter_gives_up_its_place() -> None:
    slots = Slots(2, 0.1)
    inside: list[str] = []

    async def hold(name: str) -> None:
        await slots.acquire(append=True)
        inside.append(name)

    async def main() -> None:
        await hold("a")
        await hold("b")
        with anyio.move_on_after(0.05) as scope:
            await hold("gave up")
        assert scope.cancelled_caught and inside == ["a", "b"]
        async with anyio.create_task_group() as group:
            group.start_soon(hold, "c")
            await anyio.wait_all_tasks_blocked()
            assert inside == ["a", "b"]  # both slots held: c waits
            slots.release()  # a leaves: its slot goes to c, not to the one that gave up
        assert inside == ["a", "b", "c"]
        slots.release()
        slots.release()
        await hold("d")
        await hold("e")  # both slots free again, none lost to the cancelled waiter
        assert inside[-2:] == ["d", "e"]

    anyio.run(main)


@pytest.mark.parametrize("append", [True, False])
def test_a_free_slot_is_taken_at_once(append: bool) -> None:
    slots = Slots(1, 10.0)

    async def main() -> None:
        with anyio.fail_after(1):
            await slots.acquire(append=append)

    anyio.run(main)
