"""Loads the named SQL blocks of a dialect (``-- name: <query>``) into a dict."""

from __future__ import annotations

import functools
import re
from importlib import resources

_NAME_LINE = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_named_queries(text: str) -> dict[str, str]:
    """Split a queries file into {name: sql}; a duplicated name is a programming error."""
    parts = _NAME_LINE.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = _strip_comments(body)
    return queries


def _strip_comments(body: str) -> str:
    lines = [line for line in body.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip()


@functools.cache
def load_queries(dialect: str) -> dict[str, str]:
    text = resources.files("ogmem.store").joinpath("sql", dialect, "queries.sql").read_text()
    return parse_named_queries(text)


def migration_scripts(dialect: str) -> list[tuple[int, str, str]]:
    """The dialect's migrations as (number, name, sql), ordered; files are NNNN_name.sql."""
    folder = resources.files("ogmem.store").joinpath("sql", dialect, "migrations")
    scripts = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", entry.name)
        if match:
            scripts.append((int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(scripts)
