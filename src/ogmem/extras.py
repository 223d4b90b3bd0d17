"""The optional parts of ogmem (pip extras) and the one-line message when one is missing.

A base install (``pip install ogmem``) has the embedded engine and the CLI; the HTTP server,
the MCP server, PostgreSQL and the HNSW index are extras. A command that needs one checks
first, so the user reads what to install instead of a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import importlib.util
import sys

from ogmem.core import errors

# the modules each extra brings, the ones ogmem imports
MODULES: dict[str, tuple[str, ...]] = {
    "server": ("fastapi", "uvicorn", "prometheus_client"),
    "mcp": ("mcp",),
    "postgres": ("psycopg", "psycopg_pool", "pgvector", "cachetools"),
    "ann": ("usearch",),
}


class MissingExtra(errors.ConfigurationError):
    """A feature needs an extra that is not installed."""


def require(extra: str, what: str) -> None:
    """Raise MissingExtra (one line, naming the pip command) unless ``extra`` is installed.

    ``what`` names the feature: "ogmem serve", "a postgresql:// store".
    """
    for module in MODULES[extra]:
        if not _installed(module):
            raise MissingExtra(f"{what} needs: pip install 'ogmem[{extra}]' (no module {module})")


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (usearch must load after
    the system C++ library: see index/hnsw.py); a ``None`` in sys.modules blocks it."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
