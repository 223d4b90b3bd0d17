"""The index's storage ports: the IndexStore the worker writes records with and keyword
search reads, the VectorIndex that nearest-neighbour search reads, and their row types.
Re-exported by ``ogmem.core.storage``, which bundles every port in its Backend."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ogmem.core.models import IndexRecord, SearchFilter

Vector = npt.NDArray[np.float32]


# a search's recall signals: its query hash, its (uri, score) hits in rank order, when
Recall = tuple[str, Sequence[tuple[str, float]], datetime]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """An index record as stored: enough to tell whether its node's text changed."""

    level: int
    text: str
    node_version: int
    status: str
    vector: Vector


@dataclass(frozen=True, slots=True)
class RecordHit:
    """A record found by one retriever; ``score`` is higher-is-better within that retriever."""

    uri: str
    level: int
    score: float


def best_first(hits: Iterable[RecordHit]) -> list[RecordHit]:
    """Best score first, equal scores in (uri, level) order: not in the order a backend met
    them (record ids, i.e. the order the records were written in), so that the same records
    rank the same however they were written, reindexed or copied. A list that comes best
    first already is only reordered within its runs of ties (linear)."""
    return sorted(hits, key=lambda hit: (-hit.score, hit.uri, hit.level))


@dataclass(frozen=True, slots=True)
class IndexedVector:
    """A record's vector and filter columns, as a vector cache keeps them."""

    uri: str
    level: int
    owner_space: str
    category: str
    context_type: str
    status: str
    model_id: str
    vector: Vector


@dataclass(frozen=True, slots=True)
class ExportedRecord:
    """An index record with its vector and the model that made it, as a copy moves it."""

    record: IndexRecord
    vector: Vector
    model_id: str


@dataclass(frozen=True, slots=True)
class IndexChanges:
    """What changed in an account's index since a clock value: records written (vectors
    decoded) and (uri, level) removed, as of ``clock``."""

    clock: int
    written: list[IndexedVector] = field(default_factory=list)
    removed: list[tuple[str, int]] = field(default_factory=list)


class IndexStore(Protocol):
    """Index records (vectors + full text), the account's index clock, recall signals."""

    def records_of_many(
        self, account_id: str, uris: Sequence[str]
    ) -> dict[str, list[StoredRecord]]: ...

    def replace_many(
        self,
        account_id: str,
        items: Sequence[tuple[str, Sequence[IndexRecord], Sequence[Vector]]],
        model_id: str,
    ) -> None:
        """Make each URI's records exactly the given ones (keyed by (uri, level))."""
        ...

    def remove(self, account_id: str, uri: str) -> None: ...

    def clock(self, account_id: str) -> int: ...

    def changes_since(self, account_id: str, clock: int) -> IndexChanges: ...

    def owner_vectors(self, account_id: str, owner_space: str) -> list[IndexedVector]:
        """Every record of one owner of the account (any model), read through an index on
        (account, owner): the cost follows the owner's records, not the account's."""
        ...

    def owner_spaces(self, account_id: str) -> list[str]:
        """The owner spaces that hold records in the account, sorted."""
        ...

    def keyword_search(
        self, account_id: str, words: Sequence[str], search_filter: SearchFilter, limit: int
    ) -> list[RecordHit]:
        """Records matching any of ``words`` (already lower-cased, stop words gone), best
        first by the backend's full-text ranking."""
        ...

    def lagging_nodes(self, account_id: str) -> list[tuple[str, int]]: ...

    def export_records(self, account_id: str, uris: Sequence[str]) -> list[ExportedRecord]:
        """Every record of the URIs, by URI and level."""
        ...

    def orphan_uris(self, account_id: str) -> list[str]: ...

    def record_recall(self, account_id: str, recalls: Sequence[Recall]) -> None:
        """What searches of the account returned (query hash, (uri, score) hits in rank
        order, when), as one statement: a batch holds the write lock for one call."""
        ...

    def searches_per_day(self, account_id: str, since: datetime) -> dict[str, int]:
        """Searches that found anything, per UTC day ("YYYY-MM-DD") from ``since`` on."""
        ...

    def last_recalls(self, account_id: str, uris: Sequence[str]) -> dict[str, datetime]:
        """When each of ``uris`` was last returned by a search (absent: never)."""
        ...


class VectorIndex(Protocol):
    """Nearest neighbours by cosine over an account's records."""

    def search(
        self,
        account_id: str,
        query: Vector,
        search_filter: SearchFilter,
        limit: int,
    ) -> list[RecordHit]: ...

    def forget_owner(self, account_id: str, owner_space: str) -> None:
        """Drop whatever the index keeps in memory of the owner (a user erased: its vectors
        must not outlive its records); the next search reads the store. No-op without a cache."""
        ...


class VectorIndexFactory(Protocol):
    """(kind, dimensions, model id) -> the backend's vector index of that kind; ``cache_mb``:
    the memory budget of an in-process vector cache (None: its default)."""

    def __call__(
        self, kind: str, dimensions: int, model_id: str, *, cache_mb: int | None = None
    ) -> VectorIndex: ...
