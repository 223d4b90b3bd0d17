"""One error hierarchy for ogmem; every error raised by the package derives from OgmemError.

    OgmemError
    ├── InvalidInput ............ the caller sent something unusable
    │   ├── InvalidURI
    │   └── InvalidCandidate
    ├── SchemaError ............. a memory-type YAML file is invalid (names file and field)
    ├── NotFound ................ no such node in this account
    ├── Conflict
    │   ├── ConcurrentModificationError (expected vs actual version)
    │   ├── AlreadyExists
    │   ├── DuplicateOperation .. the idempotency fingerprint was already applied
    │   └── Busy ................ held by another worker until a time (a session's commit)
    ├── StoreError .............. the database failed (driver errors are wrapped in it)
    │   └── UniqueViolation ..... a row with that key exists (names its table)
    ├── LLMError
    │   ├── LLMTimeout
    │   ├── LLMUnavailable ...... connection refused, 5xx, rate limited past the retries
    │   └── LLMResponseError .... the model answered something unusable
    ├── ExtractionError ......... a window of messages could not be turned into memories
    └── ConfigurationError

Each class's docstring is its default message.
"""

from __future__ import annotations

from datetime import datetime


class OgmemError(Exception):
    """An ogmem error occurred."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class InvalidInput(OgmemError):
    """The input is invalid."""


class InvalidURI(InvalidInput):
    """The URI is invalid."""


class InvalidCandidate(InvalidInput):
    """The candidate memory is invalid."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SchemaError(OgmemError):
    """A memory-type schema is invalid."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None) -> None:
        where = ", ".join(
            p for p in (f"file {file}" if file else "", f"field {field}" if field else "") if p
        )
        super().__init__(f"{message} ({where})" if where else message)
        self.file = file
        self.field = field


class NotFound(OgmemError):
    """No such node."""


class Conflict(OgmemError):
    """The operation conflicts with the current state."""


class ConcurrentModificationError(Conflict):
    """The node was changed by someone else since it was read."""

    def __init__(self, uri: str, expected_version: int | None, actual_version: int | None) -> None:
        super().__init__(
            f"concurrent modification of {uri}: expected version {expected_version}, "
            f"found {actual_version}"
        )
        self.uri = uri
        self.expected_version = expected_version
        self.actual_version = actual_version


class AlreadyExists(Conflict):
    """A node already exists at that URI."""


class DuplicateOperation(Conflict):
    """This operation was already applied."""

    def __init__(self, fingerprint: str, uri: str | None = None) -> None:
        super().__init__(
            f"operation {fingerprint[:16]} already applied" + (f" to {uri}" if uri else "")
        )
        self.fingerprint = fingerprint
        self.uri = uri


class Busy(Conflict):
    """Another worker holds it; try again later."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class StoreError(OgmemError):
    """The store failed."""


class UniqueViolation(StoreError):
    """A row with that key already exists."""

    def __init__(self, message: str | None = None, *, table: str = "") -> None:
        super().__init__(message)
        self.table = table


class LLMError(OgmemError):
    """The LLM call failed."""


class LLMTimeout(LLMError):
    """The LLM did not answer in time."""


class LLMUnavailable(LLMError):
    """The LLM endpoint is unavailable."""


class LLMResponseError(LLMError):
    """The LLM answered something unusable."""


class ExtractionError(OgmemError):
    """Extraction failed."""


class CommitFailed(OgmemError):
    """A commit run now (``wait``) failed; its retry is scheduled like any commit job's."""

    def __init__(self, message: str, session_id: str) -> None:
        super().__init__(message)
        self.session_id = session_id


class ConfigurationError(OgmemError):
    """The configuration is invalid."""
