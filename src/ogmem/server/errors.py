"""The one table from errors to HTTP status codes, and the handlers that apply it.

Every error body has the same shape: ``{"error": {"code", "message", "detail"}}``. Handlers
never raise HTTPException themselves; they raise ogmem errors and this edge translates them.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ogmem.core import errors

log = logging.getLogger("ogmem.server")


class Unauthorized(errors.OgmemError):
    """A valid API key is required (Authorization: Bearer ogm_...)."""


class Forbidden(errors.OgmemError):
    """This key may not act for that user."""


class TooManyRequests(errors.OgmemError):
    """Too many requests; retry later."""

    def __init__(self, message: str | None = None, retry_after: float = 60.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# Looked up along the exception's MRO, so the most specific class listed wins.
STATUS: dict[type[errors.OgmemError], tuple[int, str]] = {
    errors.InvalidInput: (422, "invalid_input"),
    errors.InvalidURI: (422, "invalid_uri"),
    errors.InvalidCandidate: (422, "invalid_candidate"),
    errors.NotFound: (404, "not_found"),
    errors.Conflict: (409, "conflict"),
    errors.ConcurrentModificationError: (409, "version_conflict"),
    errors.AlreadyExists: (409, "already_exists"),
    errors.DuplicateOperation: (409, "duplicate_operation"),
    errors.SchemaError: (500, "schema_error"),
    errors.ConfigurationError: (500, "configuration_error"),
    errors.StoreError: (503, "store_unavailable"),
    errors.LLMError: (503, "llm_unavailable"),
    errors.LLMTimeout: (503, "llm_timeout"),
    errors.LLMResponseError: (503, "llm_bad_response"),
    errors.ExtractionError: (503, "extraction_failed"),
    errors.CommitFailed: (503, "commit_failed"),
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    TooManyRequests: (429, "too_many_requests"),
    errors.OgmemError: (500, "internal_error"),
}


def status_of(exc: errors.OgmemError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return STATUS[errors.OgmemError]


def _detail(exc: errors.OgmemError) -> dict[str, Any] | None:
    if isinstance(exc, errors.ConcurrentModificationError):
        return {"uri": exc.uri, "expected": exc.expected_version, "actual": exc.actual_version}
    if isinstance(exc, errors.CommitFailed):
        return {"session_id": exc.session_id, "retry": "scheduled"}
    if isinstance(exc, errors.DuplicateOperation):
        return {"uri": exc.uri}
    if isinstance(exc, errors.InvalidCandidate | errors.SchemaError) and exc.field:
        return {"field": exc.field}
    return None


def error_response(
    status: int,
    code: str,
    message: str,
    detail: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"error": {"code": code, "message": message, "detail": detail}}
    return JSONResponse(body, status_code=status, headers=headers or None)


# the tags of the body's alternatives (plain or typed memory, one or a batch) appear in an
# error's location; they are no field of the client's
_FORM_TAGS = frozenset({"plain", "typed", "batch"})


def _field_path(loc: tuple[int | str, ...]) -> str:
    # ("body", "messages", 0, "content") -> "messages[0].content": the client's own names
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path") else loc:
        if part in _FORM_TAGS:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or ".".join(map(str, loc))


async def _on_ogmem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.OgmemError)
    status, code = status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    headers = None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))}
    return error_response(status, code, str(exc), _detail(exc), headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # the offending input is not echoed back: it may be 200,000 characters long
    problems = [
        {"field": _field_path(tuple(e["loc"])), "message": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return error_response(422, "validation_error", message, {"errors": problems})


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.OgmemError, _on_ogmem_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
