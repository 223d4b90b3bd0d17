"""A recording fake of an OpenAI-compatible endpoint, for the chat and embedding clients."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

Handler = Callable[[httpx2.Request], httpx2.Response]


class Endpoint:
    """Records the requests it receives and answers each with ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.handler(request)

    def body(self, n: int = -1) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.requests[n].content)
        return body

    @property
    def last_body(self) -> dict[str, Any]:
        return self.body()

    def http_client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self))
