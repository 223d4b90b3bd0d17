"""The console's actions (POST forms): log in and out; archive, restore, move and delete a
memory with its version check; retry a failed session commit; retry a dead-lettered event.

A version conflict is shown on the memory page (status 409) with the memory as it is now, so
the person sees what changed before trying again; it is never swallowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ogmem.console import login, views
from ogmem.console.pages import memory_values, number
from ogmem.console.render import Console
from ogmem.core import errors
from ogmem.server import errors as server_errors
from ogmem.server.auth import Principal
from ogmem.server.extra_routes import account_context

Form = Annotated[dict[str, str], Depends(login.form_fields)]


def _parent(node_uri: str) -> str:
    return node_uri.rstrip("/").rsplit("/", 1)[0]


def router(console: Console) -> APIRouter:
    actions = APIRouter()
    engine = console.engine

    @actions.post("/login", response_class=HTMLResponse)
    def log_in(request: Request, form: Form) -> Response:
        try:
            login.check_key(request, form.get("key", ""))
        except (server_errors.Unauthorized, server_errors.TooManyRequests) as exc:
            status = 429 if isinstance(exc, server_errors.TooManyRequests) else 401
            return console.login_page(str(exc), status)
        response = console.redirect("tree")
        response.set_cookie(
            login.COOKIE, form["key"].strip(), httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path=console.prefix,
        )  # fmt: skip
        return response

    @actions.post("/logout", response_class=HTMLResponse)
    def log_out() -> Response:
        response = console.redirect("login")
        response.delete_cookie(login.COOKIE, path=console.prefix)
        return response

    def act(request: Request, page: str, run: Callable[[Principal], Response]) -> Response:
        caller = login.principal(request)
        if caller is None:
            return console.login_page()
        try:
            return run(caller)
        except errors.ConcurrentModificationError as exc:
            return conflict(caller, exc)
        except errors.OgmemError as exc:
            return console.error(caller, page, exc)

    def conflict(caller: Principal, exc: errors.ConcurrentModificationError) -> Response:
        if exc.actual_version is None:  # it is gone: nothing to show but the conflict
            return console.error(caller, "memory", exc)
        view = views.memory_view(engine, caller, exc.uri, None, None)
        values = memory_values(view)
        values["conflict"] = exc
        return console.render("memory.html", 409, caller=caller, page="memory", **values)

    def node_action(request: Request, form: dict[str, str], name: str) -> Response:
        def run(caller: Principal) -> Response:
            node_uri = form.get("uri", "")
            caller.check_uri(node_uri, change=True)
            ctx = views.context(caller, views.user_of(node_uri))
            expected = number(form.get("expected_version"), None, "expected_version")
            if name == "archive":
                engine.archive(node_uri, ctx, expected)
            elif name == "restore":
                engine.restore(node_uri, ctx, expected)
            elif name == "move":
                destination = form.get("dst", "").strip()
                caller.check_uri(destination, change=True)
                moved = engine.move(node_uri, destination, ctx, expected)
                return console.redirect("memory", uri=moved.uri, done="moved")
            else:
                engine.delete(node_uri, ctx, expected)
                return console.redirect("tree", uri=_parent(node_uri), done="deleted")
            return console.redirect("memory", uri=node_uri, done=f"{name}d")

        return act(request, "memory", run)

    @actions.post("/memory/{name}", response_class=HTMLResponse)
    def memory_action(name: str, request: Request, form: Form) -> Response:
        if name not in ("archive", "restore", "move", "delete"):
            return act(request, "memory", _unknown(name))
        return node_action(request, form, name)

    @actions.post("/sessions/retry", response_class=HTMLResponse)
    def retry_session(request: Request, form: Form) -> Response:
        def run(caller: Principal) -> Response:
            session_id, user = form.get("session_id", ""), form.get("user_id", "")
            state = engine.commit(session_id, views.context(caller, user or None))
            return console.redirect("sessions", done=f"commit of {state.session_id} queued")

        return act(request, "sessions", run)

    @actions.post("/queue/retry", response_class=HTMLResponse)
    def retry_event(request: Request, form: Form) -> Response:
        def run(caller: Principal) -> Response:
            event_id = number(form.get("event_id"), None, "event_id")
            if event_id is None:
                raise errors.InvalidInput("event_id is required: the event to retry")
            engine.retry_event(event_id, account_context(caller))
            return console.redirect("queue", done=f"event {event_id} queued again")

        return act(request, "queue", run)

    return actions


def _unknown(name: str) -> Callable[[Principal], Response]:
    def run(_: Principal) -> Response:
        raise errors.InvalidInput(f"no action {name!r}: archive, restore, move or delete")

    return run
