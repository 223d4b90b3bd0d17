"""Building, parsing and validating context URIs; the only place that knows their shape.

    ctx://{account}/users/{user}/memories/{category}/{slug}
    ctx://{account}/agents/{agent}/memories/{category}/{slug}
    ctx://{account}/users/{user}/sessions/{session_id}

Segments are ``[A-Za-z0-9._-]{1,128}``, never ``.`` or ``..``; a URI is at most 1,024 bytes.
Validation is strict (no escaping, no normalisation) so that a URI can never smuggle a path
traversal or a wildcard into a file system or SQL text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ogmem.core import errors

SCHEME = "ctx://"
MAX_URI_BYTES = 1024
MAX_SEGMENT_CHARS = 128
_SEGMENT = re.compile(r"[A-Za-z0-9._-]{1,128}")
_SLUG_INVALID = re.compile(r"[^a-z0-9._-]+")


def validate_segment(segment: str, what: str = "segment") -> str:
    """Return ``segment`` unchanged if it is a legal URI segment, else raise InvalidURI."""
    if not isinstance(segment, str) or not segment:
        raise errors.InvalidURI(f"{what} is empty")
    if len(segment) > MAX_SEGMENT_CHARS:
        raise errors.InvalidURI(f"{what} is longer than {MAX_SEGMENT_CHARS} characters")
    if segment in (".", ".."):
        raise errors.InvalidURI(f"{what} may not be {segment!r}")
    if not _SEGMENT.fullmatch(segment):
        raise errors.InvalidURI(f"{what} {segment!r} has characters outside [A-Za-z0-9._-]")
    return segment


@dataclass(frozen=True, slots=True)
class ContextURI:
    """A parsed URI: the account and the path segments below it."""

    account: str
    segments: tuple[str, ...]

    def __str__(self) -> str:
        return SCHEME + "/".join((self.account, *self.segments))

    @property
    def parent(self) -> ContextURI | None:
        if not self.segments:
            return None
        return ContextURI(self.account, self.segments[:-1])

    @property
    def name(self) -> str:
        return self.segments[-1] if self.segments else self.account

    def child(self, *segments: str) -> ContextURI:
        return build(self.account, *self.segments, *segments)


def build(account: str, *segments: str) -> ContextURI:
    """Build a URI from raw segments, validating each."""
    validate_segment(account, "account")
    for segment in segments:
        validate_segment(segment)
    uri = ContextURI(account, tuple(segments))
    if len(str(uri).encode()) > MAX_URI_BYTES:
        raise errors.InvalidURI(f"URI is longer than {MAX_URI_BYTES} bytes")
    return uri


def parse(text: str) -> ContextURI:
    """Parse ``ctx://account/seg/...``; a trailing slash is tolerated, nothing else is."""
    if not isinstance(text, str):
        raise errors.InvalidURI("URI must be a string")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_URI_BYTES:
        raise errors.InvalidURI(f"URI is longer than {MAX_URI_BYTES} bytes")
    if not text.startswith(SCHEME):
        raise errors.InvalidURI(f"URI {text[:80]!r} does not start with {SCHEME}")
    body = text[len(SCHEME) :]
    if body.endswith("/"):
        body = body[:-1]
    account, *segments = body.split("/")
    return build(account, *segments)


def user_root(account: str, user_id: str) -> ContextURI:
    return build(account, "users", user_id)


def agent_root(account: str, agent_id: str) -> ContextURI:
    return build(account, "agents", agent_id)


def session_uri(account: str, user_id: str, session_id: str) -> ContextURI:
    return build(account, "users", user_id, "sessions", session_id)


def is_within(uri: str, prefix: str) -> bool:
    """True when ``uri`` equals ``prefix`` or lies below it as a directory."""
    base = prefix.rstrip("/")
    return uri.rstrip("/") == base or uri.startswith(base + "/")


def slugify(text: str, max_chars: int = 64) -> str:
    """Turn free text (an LLM's routing key) into a legal segment: 'Dark Mode!' -> 'dark-mode'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_INVALID.sub("-", ascii_text.lower()).strip("-.")[:max_chars].strip("-.")
    return slug or "item"
