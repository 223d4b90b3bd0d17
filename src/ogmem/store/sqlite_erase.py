"""The SQLite side of erasing: what a deleted row leaves in the file. With secure_delete the
freed space is zeroed; FTS5 keeps a deleted row's terms in its older segments (behind delete
markers) until a merge; the write-ahead log keeps the pages as they were until a checkpoint
truncates it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from ogmem.store.sql_erase import SqlEraseStore
from ogmem.store.sqlite_db import SqliteDatabase

logger = logging.getLogger(__name__)


class SqliteEraseStore(SqlEraseStore):
    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db)
        self._sqlite = db

    @contextmanager
    def scrubbing(self) -> Iterator[None]:
        with self._sqlite.transaction():
            row = self._sqlite.fetch_one("secure_delete")
            was_on = bool(row and next(iter(row.values())))
            self._sqlite.execute("secure_delete_on")
            try:
                yield
                self._sqlite.execute("merge_full_text")
            finally:
                if not was_on:
                    self._sqlite.execute("secure_delete_off")
        if not self._sqlite.truncate_log():
            logger.warning(
                "a reader kept the write-ahead log of %s from being emptied after an erase; "
                "the next checkpoint overwrites it", self._sqlite.path,
            )  # fmt: skip
