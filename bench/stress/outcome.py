"""What a check hands back (figures, goals, failing cases) and how the goals are judged."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True, slots=True)
class Goal:
    """``figure op target``, e.g. Goal("crash_lost", "==", 0)."""

    figure: str
    op: str
    target: float

    def __post_init__(self) -> None:
        if self.op not in _OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}")

    def met(self, figures: dict[str, float]) -> bool:
        value = figures.get(self.figure)
        # a figure the check could not produce (it crashed first) misses its goal
        if value is None or math.isnan(value):
            return False
        return _OPERATORS[self.op](value, self.target)

    def __str__(self) -> str:
        return f"{self.figure} {self.op} {self.target:g}"


@dataclass
class Outcome:
    """One check's result: its figures, goals, and the failing cases it saw (printed)."""

    check: str
    figures: dict[str, float] = field(default_factory=dict)
    goals: Sequence[Goal] = ()
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def missed(self) -> list[Goal]:
        return [goal for goal in self.goals if not goal.met(self.figures)]

    def ok(self) -> bool:
        return not self.missed() and not self.failures


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100): a value that was actually observed, so a
    p99 of 100 samples is the 99th smallest, not an interpolation towards the maximum."""
    if not values:
        return math.nan
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return float(ordered[rank - 1])


def summary(outcomes: Sequence[Outcome]) -> tuple[dict[str, float], list[str]]:
    """All figures (for bench/results.json), and one line per missed goal or failed case."""
    figures: dict[str, float] = {}
    problems: list[str] = []
    for outcome in outcomes:
        figures.update({k: v for k, v in outcome.figures.items() if not math.isnan(v)})
        for goal in outcome.missed():
            value = outcome.figures.get(goal.figure, math.nan)
            problems.append(f"{outcome.check}: goal {goal} missed (got {value:g})")
        problems.extend(f"{outcome.check}: {failure}" for failure in outcome.failures)
    return figures, problems
