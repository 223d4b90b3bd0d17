"""HTTP/1.1 on a bare socket: hostile requests need bytes no client library would send
(a NUL in the request line, a Content-Length that lies, a header of 100 KB)."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass

RECV = 65536


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back for one request: a status, or why there was none."""

    status: int | None
    body: bytes = b""
    error: str | None = None  # "reset", "closed without an answer", "timeout", ...
    seconds: float = 0.0
    closing: bool = False  # the answer said "Connection: close"

    @property
    def failed(self) -> bool:
        """A 5xx, a reset or no answer at all: the server did not handle the request."""
        return self.status is None or self.status >= 500

    def describe(self) -> str:
        if self.status is None:
            return f"no answer ({self.error})"
        return f"{self.status} {self.body[:200]!r}"


def request(
    method: str,
    target: str | bytes,
    *,
    host: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    key: str | None = None,
) -> bytes:
    """One request as bytes: Content-Length from the body unless ``headers`` sets it."""
    lines = [f"{method} ".encode() + _bytes(target) + b" HTTP/1.1", f"Host: {host}".encode()]
    fields = dict(headers or {})
    if key is not None:
        fields.setdefault("Authorization", f"Bearer {key}")
    if body is not None:
        fields.setdefault("Content-Type", "application/json")
        fields.setdefault("Content-Length", str(len(body)))
    lines += [f"{name}: {value}".encode() for name, value in fields.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def json_body(value: object) -> bytes:
    return json.dumps(value).encode()


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


class Connection:
    """One TCP connection; requests are sent and answered one after the other."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    @classmethod
    def to(cls, port: int, timeout_s: float = 60.0) -> Connection:
        return cls(socket.create_connection(("127.0.0.1", port), timeout=timeout_s))

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()

    def exchange(self, data: bytes | Iterable[bytes]) -> Answer:
        """Send ``data`` (bytes, or chunks of them) and read one response."""
        started = time.monotonic()
        chunks = [data] if isinstance(data, bytes) else data
        try:
            for chunk in chunks:
                self.sock.sendall(chunk)
        except OSError:
            # the server may answer (413, 400) and close before the whole body is sent:
            # the answer is what counts, so read it rather than report the broken pipe
            pass
        answer = self.read_answer()
        return dataclasses.replace(answer, seconds=time.monotonic() - started)

    def read_answer(self) -> Answer:
        try:
            head = self._read_head()
            if head is None:
                return Answer(None, error="closed without an answer")
            status, length, closing = head
            return Answer(status, self._read_exactly(length), closing=closing)
        except TimeoutError:
            return Answer(None, error="timeout")
        except ConnectionResetError:
            return Answer(None, error="reset")
        except OSError as exc:
            return Answer(None, error=f"{type(exc).__name__}: {exc}")

    def _read_head(self) -> tuple[int, int, bool] | None:
        while b"\r\n\r\n" not in self._buffer:
            chunk = self.sock.recv(RECV)
            if not chunk:
                return None
            self._buffer += chunk
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        closing = fields.get("connection", "").lower() == "close"
        return status, int(fields.get("content-length", "0")), closing

    def _read_exactly(self, length: int) -> bytes:
        while len(self._buffer) < length:
            chunk = self.sock.recv(RECV)
            if not chunk:
                break
            self._buffer += chunk
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return body

    def wait_closed(self, limit_s: float) -> float | None:
        """Seconds until the server closes the connection or answers; None if it did neither
        within ``limit_s``."""
        started = time.monotonic()
        self.sock.settimeout(0.5)
        while time.monotonic() - started < limit_s:
            try:
                # any outcome but a timeout (an answer such as 408, the end of the stream,
                # a reset) means the server gave up on the request
                self.sock.recv(RECV)
            except TimeoutError:
                continue
            except OSError:
                pass
            return time.monotonic() - started
        return None
