"""OwnerCache: the in-process vector cache, one matrix per (account, owner space), bounded.

Search cost follows the owner, not the tenant: a user's search reads that user's matrix (and
its agent's), never the other 999 users' of a crowded account. Each owner is loaded on first
use through the store's index on (account, owner), then kept in step with the account's index
clock: before a search the account's changes since the last look are read once and applied to
whichever of its owners are loaded (a change to an owner not loaded is skipped: it is read when
that owner is). The cache holds at most ``budget_bytes`` of matrices; beyond that the owners
least recently used are dropped (their next search loads them again).

Every method runs under ``lock``, which the caller holds (searches hold it to catch up and to
read hits, not for the matrix product itself).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ogmem.core.storage import IndexedVector, IndexStore
from ogmem.core.storage_erase import ERASED_TOMBSTONE
from ogmem.index.matrix import OwnerMatrix

logger = logging.getLogger(__name__)

MB = 1024 * 1024
DEFAULT_BUDGET_MB = 512  # ~300k records of 384 dimensions: ample for a laptop's users
OwnerKey = tuple[str, str]  # (account_id, owner_space)
# the share of the budget dropped before glibc is asked to give freed memory back (malloc_trim):
# it keeps freed blocks for reuse, and the dropped matrices' sizes rarely match the next ones',
# so without it the process grew ~25 % past the budget (bench/scale_bench.py, 1,306 owners).
# Until it is given back, freed memory still counts: the matrices are kept within the budget
# less this share, so that matrices and untrimmed memory together stay within the budget (a
# trim every 32 MB left the process 41 MB past a budget of 512 MB)
TRIM_SHARE = 64
MIN_TRIM_BYTES = 256 * 1024


@dataclass
class _Account:
    """What the cache knows of an account: its index clock as of the last catch-up, and the
    owners loaded since (dropped with the last of them, so 10,000 accounts cost nothing once
    evicted)."""

    seq: int
    owners: dict[str, OwnerMatrix] = field(default_factory=dict)


class OwnerCache:
    def __init__(
        self, index: IndexStore, dimensions: int, model_id: str, budget_bytes: int
    ) -> None:
        if budget_bytes <= 0:
            raise ValueError("the vector cache budget must be positive")
        self.lock = threading.RLock()
        self.budget_bytes = budget_bytes
        self._index = index
        self._dimensions = dimensions
        self._model_id = model_id
        self._accounts: dict[str, _Account] = {}
        self._lru: OrderedDict[OwnerKey, OwnerMatrix] = OrderedDict()
        self._sizes: dict[OwnerKey, int] = {}
        self.used_bytes = 0
        self._dropped_since_trim = 0
        # told when an owner's matrix is dropped (an HNSW graph following it goes too)
        self.on_drop: list[Callable[[OwnerKey], None]] = []

    def catch_up(self, account_id: str) -> None:
        """Apply the account's index changes since the last look to its loaded owners."""
        account = self._accounts.get(account_id)
        if account is None:
            return  # nothing loaded: each owner reads its records when first searched
        if self._index.clock(account_id) == account.seq:
            return
        changes = self._index.changes_since(account_id, account.seq)
        if ERASED_TOMBSTONE in changes.removed:
            # a user was erased: its tombstone does not say which records went, so every
            # owner of the account is read from the store again when next searched
            self.forget_account(account_id)
            account.seq = changes.clock
            return
        for key in changes.removed:
            for matrix in account.owners.values():
                matrix.remove(key)
        for record in changes.written:
            self._apply(account, record)
        for owner, matrix in account.owners.items():
            matrix.generation += 1
            self._resized((account_id, owner), matrix)
        account.seq = changes.clock

    def owners(self, account_id: str) -> list[str]:
        """Every owner space holding records in the account (an account-wide search)."""
        return self._index.owner_spaces(account_id)

    def matrix(self, account_id: str, owner_space: str) -> OwnerMatrix:
        """The owner's caught-up matrix, loaded if needed; marks it most recently used and
        drops the least recently used others while the cache is over its budget."""
        key = (account_id, owner_space)
        matrix = self._lru.get(key)
        if matrix is not None:
            self._lru.move_to_end(key)
            return matrix
        account = self._accounts.get(account_id)
        if account is None:
            # the clock before the rows: a change made meanwhile is applied again, harmlessly
            account = self._accounts[account_id] = _Account(self._index.clock(account_id))
        matrix = self._load(account_id, owner_space)
        account.owners[owner_space] = self._lru[key] = matrix
        self._resized(key, matrix)
        self._evict()
        return matrix

    def peek(self, account_id: str, owner_space: str) -> OwnerMatrix | None:
        """The owner's matrix if loaded, as it is (no catch-up, no load, no reordering)."""
        return self._lru.get((account_id, owner_space))

    def forget_owner(self, account_id: str, owner_space: str) -> None:
        """Drop one owner's matrix (erasing a user; the next search reads the store again),
        its vectors zeroed first: freed memory keeps its bytes until it is reused."""
        self._forget((account_id, owner_space))

    def forget_account(self, account_id: str) -> None:
        account = self._accounts.get(account_id)
        for owner in list(account.owners) if account is not None else []:
            self._forget((account_id, owner))

    def _forget(self, key: OwnerKey) -> None:
        matrix = self._lru.get(key)
        if matrix is not None:
            matrix.vectors[:] = 0.0
        self._drop(key)

    def loaded(self) -> list[OwnerKey]:
        """The owners in the cache, least recently used first."""
        return list(self._lru)

    def _load(self, account_id: str, owner_space: str) -> OwnerMatrix:
        records = self._index.owner_vectors(account_id, owner_space)
        usable = [r for r in records if r.model_id == self._model_id]
        if len(usable) < len(records):
            logger.warning(
                "%d index records of %s were embedded by another model; run `ogmem reindex`",
                len(records) - len(usable), account_id,
            )  # fmt: skip
        matrix = OwnerMatrix(self._dimensions, capacity=len(usable))
        for record in usable:
            matrix.upsert(record)
        return matrix

    def _apply(self, account: _Account, record: IndexedVector) -> None:
        key = (record.uri, record.level)
        for owner, matrix in account.owners.items():
            if owner != record.owner_space:
                matrix.remove(key)  # a record that changed owner leaves its old matrix
        target = account.owners.get(record.owner_space)
        if target is None:
            return
        if record.model_id == self._model_id:
            target.upsert(record)
        else:
            target.remove(key)
            logger.warning("an index record of %s was embedded by another model; run "
                           "`ogmem reindex`", record.uri)  # fmt: skip

    def _resized(self, key: OwnerKey, matrix: OwnerMatrix) -> None:
        size = matrix.nbytes()
        self.used_bytes += size - self._sizes.get(key, 0)
        self._sizes[key] = size

    def _evict(self) -> None:
        trim_after = max(MIN_TRIM_BYTES, self.budget_bytes // TRIM_SHARE)
        while self.used_bytes > self.budget_bytes - trim_after and len(self._lru) > 1:
            oldest = next(iter(self._lru))  # never the one just loaded: it is the newest
            self._drop(oldest)
        if self._dropped_since_trim >= trim_after:
            self._dropped_since_trim = 0
            _give_back_freed_memory()

    def _drop(self, key: OwnerKey) -> None:
        if self._lru.pop(key, None) is None:
            return
        size = self._sizes.pop(key)
        self.used_bytes -= size
        self._dropped_since_trim += size
        account = self._accounts[key[0]]
        account.owners.pop(key[1], None)
        if not account.owners:
            del self._accounts[key[0]]
        for listener in self.on_drop:
            listener(key)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl): nothing to ask
        return None
    return trim


def _give_back_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
