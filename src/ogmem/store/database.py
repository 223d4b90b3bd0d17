"""The connector every SQL store is written against: named queries, run in this thread's
transaction. A backend is a connector (SqliteDatabase, PostgresDatabase), its SQL files and
its error map; the stores over it (``sql_*.py``) are written once.

Parameters are plain Python values (str, int, float, bool, datetime, list, dict, numpy
vectors); each connector encodes them as its database wants. Rows come back as dicts whose
values ``ogmem.store.rows`` decodes whichever way a driver returned them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Database(Protocol):
    dialect: str

    def transaction(self) -> AbstractContextManager[None]: ...

    def group_commit(self) -> AbstractContextManager[None]: ...

    def execute(self, query: str, /, **params: Any) -> int:
        """Run a named statement; how many rows it changed."""
        ...

    def execute_many(self, query: str, /, params: Sequence[Mapping[str, Any]]) -> int:
        """Run a named statement once per parameter set; how many rows they changed."""
        ...

    def returning(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        """The rows a writing statement returns (UPDATE ... RETURNING)."""
        ...

    def fetch_all(self, query: str, /, **params: Any) -> list[dict[str, Any]]: ...

    def fetch_one(self, query: str, /, **params: Any) -> dict[str, Any] | None: ...

    def check_writable(self) -> None: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...
