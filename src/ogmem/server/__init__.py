"""The HTTP API of ogmem (FastAPI): ``create_app(engine, keys)``; ``ogmem serve`` runs it."""

from __future__ import annotations

from ogmem.server.app import create_app

__all__ = ["create_app"]
