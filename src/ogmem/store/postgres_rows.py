"""Many rows of one INSERT in a few statements: ``INSERT ... VALUES (...), (...), ...``.

psycopg's executemany pipelines a batch, but the server still parses, plans and runs each row
as a statement of its own; the writer's bulk path sends thousands of rows (nodes, history,
events, idempotency records) per batch, and those statements were most of its time. A named
INSERT whose parameters all sit in its one VALUES tuple is rewritten here to carry many
tuples, in chunks that stay under the protocol's limit on parameters. The statement is the
same one, so its meaning (constraints, ON CONFLICT, row-level security) does not change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PARAMETERS = 65_535  # the extended protocol counts them in 16 bits
MAX_ROWS = 1_000  # per statement: past this, a longer text saves nothing measurable

_INSERT_VALUES = re.compile(
    r"^(?P<head>\s*INSERT\s+INTO\s.*?\bVALUES\s*)(?P<row>\((?:[^()]|\([^()]*\))*\))(?P<tail>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")
_DO_UPDATE = re.compile(r"\bDO\s+UPDATE\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MultiRowInsert:
    """An INSERT of one VALUES tuple, written to carry any number of them, in PostgreSQL's
    own ``$n`` placeholders: for a RawCursor, which sends the text as it is. psycopg's
    ``%(name)s`` queries are parsed in Python at every run (no cache past 4 KB of text), which
    cost a statement of 1,000 rows more than the rows saved."""

    head: str  # up to and including VALUES
    pieces: tuple[str, ...]  # the tuple's text around its parameters
    tail: str  # what follows the tuple (ON CONFLICT ..., RETURNING ...), parameter-free
    names: tuple[str, ...]  # the tuple's parameters in order

    @classmethod
    def of(cls, sql: str) -> MultiRowInsert | None:
        """The rewrite of a pyformat ``sql``, or None when it is not one INSERT ... VALUES
        whose parameters are all in its tuple (an INSERT ... SELECT, say), or an upsert."""
        found = _INSERT_VALUES.match(sql)
        if found is None or _NAMED_PARAMETER.search(found["head"] + found["tail"]):
            return None
        if _DO_UPDATE.search(found["tail"]):
            # one statement may not update a row twice, which a batch naming a key twice
            # would ask; row by row, the later row wins, as the caller expects
            return None
        parts = _NAMED_PARAMETER.split(found["row"])  # text, name, text, name, ..., text
        names = tuple(parts[1::2])
        if not names:
            return None
        pieces = tuple(_raw(piece) for piece in parts[0::2])
        tail = _raw(found["tail"]).rstrip().rstrip(";")
        return cls(_raw(found["head"]), pieces, tail, names)

    def statements(self, rows: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, list[Any]]]:
        """(sql, positional parameters) per chunk of ``rows``, in order."""
        per_statement = max(1, min(MAX_ROWS, MAX_PARAMETERS // len(self.names)))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            tuples = (self._row(n * len(self.names)) for n in range(len(chunk)))
            sql = f"{self.head}{', '.join(tuples)}{self.tail}"
            yield sql, [row[name] for row in chunk for name in self.names]

    def _row(self, offset: int) -> str:
        """The tuple with its parameters numbered from ``offset + 1``."""
        numbered = [self.pieces[0]]
        for n, piece in enumerate(self.pieces[1:], start=offset + 1):
            numbered += (f"${n}", piece)
        return "".join(numbered)


def _raw(text: str) -> str:
    """pyformat text as PostgreSQL reads it: ``%%`` is one ``%``."""
    return text.replace("%%", "%")
