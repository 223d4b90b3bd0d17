"""RequestGuard: the outermost protection of every HTTP request (pure ASGI).

- a body larger than the limit gets 413, told by Content-Length before a byte is read, or
  counted as it arrives (chunked bodies);
- a body that stalls between two reads gets 408, so a half-sent request cannot hold a
  connection and a worker thread;
- a request still running after the request timeout gets 504 (a handler thread cannot be
  stopped; its work goes on, and its answer is dropped);
- an exception that escapes the app gets the usual 500 error body here and goes no further:
  the ASGI server never sees it, so a keep-alive connection stays usable.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ogmem.limits import ServerLimits
from ogmem.server.errors import error_response

log = logging.getLogger("ogmem.server")


class _GuardTripped(Exception):
    """Raised into the app's receive() when the body breaks a limit."""


class _Exchange:
    """One request/response: the app's messages pass through until a limit trips; then the
    guard's own error response goes out instead (once, and only if nothing was sent yet)."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limits: ServerLimits) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self._limits = limits
        self._received = 0
        self._body_done = False
        self.started = False
        self.failure: tuple[int, str, str] | None = None

    async def receive(self) -> Message:
        if self._body_done:  # after the body: wait for a disconnect as long as it takes
            return await self._receive()
        try:
            message = await asyncio.wait_for(self._receive(), self._limits.body_timeout_s)
        except TimeoutError:
            seconds = self._limits.body_timeout_s
            self.fail(408, "request_timeout", f"the request body stalled for {seconds:g} s")
            raise _GuardTripped from None
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            self._body_done = not message.get("more_body", False)
            if self._received > self._limits.max_body_bytes:
                self.fail(413, "body_too_large", _too_large(self._limits.max_body_bytes))
                raise _GuardTripped
        return message

    async def send(self, message: Message) -> None:
        if self.failure is not None:
            await self.respond_failure()
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    def fail(self, status: int, code: str, message: str) -> None:
        if self.failure is None:
            self.failure = (status, code, message)

    async def respond_failure(self) -> None:
        if self.started or self.failure is None:
            return
        self.started = True
        status, code, message = self.failure
        response = error_response(status, code, message)
        if status in (408, 413):
            response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(self.scope, self._receive, self._send)


def _too_large(limit: int) -> str:
    return f"the request body exceeds {limit} bytes (OGMEM_MAX_BODY_BYTES)"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before us
    return None


class RequestGuard:
    def __init__(self, app: ASGIApp, limits: ServerLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(scope, receive, send, self.limits)
        declared = _declared_length(scope)
        if declared is not None and declared > self.limits.max_body_bytes:
            exchange.fail(413, "body_too_large", _too_large(self.limits.max_body_bytes))
            await exchange.respond_failure()
            return
        # The app runs as a task the guard waits for, not under a cancel scope: a sync
        # handler's thread ignores cancellation until it returns, and a cancel delivered then
        # could lose the race with its answer. At the deadline the 504 goes out at once.
        handling = asyncio.ensure_future(self.app(scope, exchange.receive, exchange.send))
        done, _ = await asyncio.wait({handling}, timeout=self.limits.request_timeout_s)
        if not done:
            seconds = self.limits.request_timeout_s
            exchange.fail(504, "request_timeout", f"the request took longer than {seconds:g} s")
            handling.add_done_callback(_forget_outcome)
            handling.cancel()
        else:
            try:
                handling.result()
            except _GuardTripped:
                pass
            except Exception as exc:  # the barrier: nothing reaches the ASGI server
                self._failed(exchange, exc)
        await exchange.respond_failure()

    def _failed(self, exchange: _Exchange, exc: Exception) -> None:
        if exchange.failure is None:
            scope = exchange.scope
            log.error("%s %s crashed", scope.get("method"), scope.get("path"), exc_info=exc)
            exchange.fail(500, "internal_error", "internal server error")


def _forget_outcome(task: asyncio.Future[None]) -> None:
    """A timed-out request's late end (its answer, or its error) is dropped on purpose."""
    if not task.cancelled():
        task.exception()
