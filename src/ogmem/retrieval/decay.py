"""Decay: an optional ranking weight from a memory's age and the recall signals searches leave.

Off by default (``Engine(decay=None)``). With ``Decay(half_life_days=90)`` a hit's score is
multiplied by ``floor + (1 - floor) * 0.5 ** (age / half_life)``, where age runs from the later
of the time the memory speaks of (``valid_from``, else when it was last written) and the last
time a search returned it: what is neither recent nor recently useful sinks, never below
``floor`` of its score. Measured on LoCoMo in docs/decisions.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ogmem.core import errors
from ogmem.core.models import ContextNode

DEFAULT_HALF_LIFE_DAYS = 90.0
DEFAULT_FLOOR = 0.5
_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Decay:
    """The decay setting: ``half_life_days`` > 0, ``floor`` in [0, 1]."""

    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    floor: float = DEFAULT_FLOOR

    def __post_init__(self) -> None:
        if not self.half_life_days > 0:
            raise errors.ConfigurationError(
                f"decay half_life_days must be above 0, not {self.half_life_days}"
            )
        if not 0.0 <= self.floor <= 1.0:
            raise errors.ConfigurationError(f"decay floor must be in [0, 1], not {self.floor}")

    def weight(self, node: ContextNode, last_recalled: datetime | None, now: datetime) -> float:
        fresh = node.valid_from or node.updated_at
        if last_recalled is not None and last_recalled > fresh:
            fresh = last_recalled
        age_days = max(0.0, (now - fresh).total_seconds() / _DAY_S)
        return self.floor + (1.0 - self.floor) * math.pow(0.5, age_days / self.half_life_days)

    def weights(
        self,
        nodes: Mapping[str, ContextNode],
        last_recalls: Mapping[str, datetime],
        now: datetime,
    ) -> dict[str, float]:
        return {uri: self.weight(n, last_recalls.get(uri), now) for uri, n in nodes.items()}
