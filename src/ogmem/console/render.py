"""Rendering: the Jinja2 environment, the login gate, and errors shown as pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from ogmem.console import login
from ogmem.core import errors
from ogmem.engine import Engine
from ogmem.server.auth import Principal
from ogmem.server.errors import status_of

NAV = (("tree", "Tree"), ("search", "Search"), ("sessions", "Sessions"),
       ("queue", "Queue"), ("overview", "Overview"))  # fmt: skip


class Console:
    def __init__(self, engine: Engine, prefix: str) -> None:
        self.engine = engine
        self.prefix = prefix
        self.env = Environment(
            loader=PackageLoader("ogmem.console", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(nav=NAV, prefix=prefix, link=self.link)

    def link(self, page: str, **params: Any) -> str:
        """A console URL with its query (None and "" left out)."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{self.prefix}/{page}" + (f"?{urlencode(query)}" if query else "")

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**values)
        return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store"})

    def login_page(self, message: str = "", status: int = 401) -> HTMLResponse:
        return self.render("login.html", status, caller=None, message=message, page="login")

    def page(
        self, request: Request, page: str, build: Callable[[Principal], dict[str, Any]]
    ) -> HTMLResponse:
        """The login page without a valid key; else the page, or its error as a page."""
        caller = login.principal(request)
        if caller is None:
            return self.login_page()
        try:
            values = build(caller)
        except errors.OgmemError as exc:
            return self.error(caller, page, exc)
        template = values.pop("_template", f"{page}.html")
        status = values.pop("_status", 200)
        notice = request.query_params.get("done", "")
        return self.render(template, status, caller=caller, page=page, notice=notice, **values)

    def error(self, caller: Principal, page: str, exc: errors.OgmemError) -> HTMLResponse:
        status, code = status_of(exc)
        return self.render(
            "error.html", status, caller=caller, page=page, code=code, message=str(exc)
        )

    def redirect(self, page: str, **params: Any) -> Response:
        return RedirectResponse(self.link(page, **params), status_code=303)
