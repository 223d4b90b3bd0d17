"""The web console at ``/ui``: server-rendered pages over the same Engine calls as the API.

``mount(app, engine)`` adds it to the API's app; its templates and stylesheet ship inside
the package (nothing is fetched from elsewhere at run time)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ogmem.console import actions, pages
from ogmem.console.render import Console
from ogmem.engine import Engine

PREFIX = "/ui"


def mount(app: FastAPI, engine: Engine) -> None:
    console = Console(engine, PREFIX)
    app.mount(f"{PREFIX}/static", StaticFiles(packages=[("ogmem.console", "static")]), "static")
    app.include_router(pages.router(console), prefix=PREFIX, include_in_schema=False)
    app.include_router(actions.router(console), prefix=PREFIX, include_in_schema=False)
