"""What the HTTP client sends and reads: request bodies from the domain's types, URL parts,
and the API's error answers as the Engine's exception classes."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from ogmem.core import errors
from ogmem.core.models import CandidateMemory, Message

# What POST /memories takes of a CandidateMemory; the rest (owner scope, origin, provenance)
# the server decides itself.
MEMORY_FIELDS = (
    "category", "routing_key", "abstract", "overview", "content", "confidence", "when", "who",
    "where", "evidence_quote", "source_message_ids", "attributes", "operation", "metadata",
    "valid_from", "expires_at",
)  # fmt: skip

# Codes whose class name differs from the code itself.
_CODE_ALIASES: dict[str, type[errors.OgmemError]] = {
    "version_conflict": errors.Conflict,  # without both versions in its detail
    "validation_error": errors.InvalidInput,
    "llm_bad_response": errors.LLMResponseError,
    "extraction_failed": errors.ExtractionError,
}

MessageLike = Message | Mapping[str, Any]
MemoryLike = CandidateMemory | Mapping[str, Any]


class AuthError(errors.OgmemError):
    """The API key is missing, invalid, or not allowed to do this."""


class ServerError(errors.OgmemError):
    """The server failed, or answered something this client does not understand."""

    def __init__(
        self, message: str | None = None, *, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ServerUnreachable(errors.OgmemError):
    """The ogmem server could not be reached."""


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """Optional fields are left out rather than sent as null, so server defaults apply."""
    return {key: value for key, value in values.items() if value is not None}


def message_json(message: MessageLike) -> dict[str, Any]:
    """A message as the API takes it: {role, content, name?, created_at?, message_id?}."""
    if isinstance(message, Message):
        message = dataclasses.asdict(message)
    body = without_none(message)
    if isinstance(body.get("created_at"), datetime):
        body["created_at"] = body["created_at"].isoformat()
    return body


def memory_json(memory: MemoryLike) -> dict[str, Any]:
    """A candidate memory as the API takes it; fields left at their default are omitted."""
    if not isinstance(memory, CandidateMemory):
        return without_none(memory)
    body: dict[str, Any] = {}
    defaults = {f.name: f.default for f in dataclasses.fields(memory)}
    for name in MEMORY_FIELDS:
        value = getattr(memory, name)
        if isinstance(value, tuple | Mapping):  # JSON has lists and objects, not these
            value = list(value) if isinstance(value, tuple) else dict(value)
        if isinstance(value, datetime):
            value = value.isoformat()
        if value != defaults[name] and value not in ([], {}):
            body[name] = value
    return body


def _build(
    family: type[errors.OgmemError],
    code: str,
    message: str,
    default: type[errors.OgmemError] | None = None,
) -> errors.OgmemError:
    """The class of ``family`` the error code names (``invalid_uri`` -> InvalidURI), so that
    callers catching the precise embedded class still catch it over HTTP; ``default`` when
    the code names none, or a class that cannot be built from a message alone."""
    if code in _CODE_ALIASES:
        return _CODE_ALIASES[code](message)
    wanted = code.replace("_", "").replace("-", "").lower()
    pending = [family]
    while wanted and pending:
        cls = pending.pop()
        if cls.__name__.lower() in (wanted, wanted + "error") and _takes_message(cls):
            return cls(message)
        pending.extend(cls.__subclasses__())
    return (default or family)(message)


def _takes_message(cls: type[errors.OgmemError]) -> bool:
    parameters = list(inspect.signature(cls).parameters)
    return bool(parameters) and parameters[0] == "message"


def error_from_response(response: httpx.Response) -> errors.OgmemError:
    """The exception an error answer stands for: ``{"error": {code, message, detail}}``."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or "")
    message = str(error.get("message") or response.reason_phrase or f"HTTP {status}")
    raw_detail = error.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    if status in (401, 403):
        return AuthError(message)
    if status == 404:
        return _build(errors.NotFound, code, message)
    if status == 409:
        # both versions named: an optimistic-concurrency failure (either key spelling)
        expected = next((k for k in ("expected_version", "expected") if k in detail), None)
        actual = next((k for k in ("actual_version", "actual") if k in detail), None)
        if expected and actual:
            return errors.ConcurrentModificationError(
                str(detail.get("uri", "")), detail[expected], detail[actual]
            )
        return _build(errors.Conflict, code, message)
    if status in (400, 413, 422):
        return _build(errors.InvalidInput, code, message)
    if status == 503:
        if "llm" in code.lower():
            return _build(errors.LLMError, code, message, errors.LLMUnavailable)
        return _build(errors.StoreError, code, message)
    return ServerError(f"HTTP {status}: {message}", status=status, code=code or None)


def param(value: Any) -> str:
    # httpx would send True as "True"; the API expects JSON-style booleans
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def segment(value: str) -> str:
    """A session id as one path segment: '/' and friends percent-encoded."""
    return quote(value, safe="")
