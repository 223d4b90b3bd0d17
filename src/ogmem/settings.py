"""Settings read from the environment; only the edges (CLI, server, MCP) call from_env().

| variable | meaning |
| --- | --- |
| OGMEM_DATA_DIR | where the embedded store lives (default: the user's data dir) |
| OGMEM_STORE | the SQLite file (default: $OGMEM_DATA_DIR/ogmem.sqlite) |
| OGMEM_LLM_BASE_URL, OGMEM_LLM_MODEL, OGMEM_LLM_API_KEY | an OpenAI-compatible LLM |
| OGMEM_EMBEDDER | minilm (default, offline), openai, hash (tests only) |
| OGMEM_EMBEDDER_MODEL, _BASE_URL, _API_KEY, _DIMENSIONS | for the openai embedder |
| OGMEM_EMBEDDER_BATCH_SIZE, OGMEM_EMBEDDER_THREADS | for the minilm embedder |
| OGMEM_VECTOR_INDEX | exact, hnsw (extra `ann`: a graph for accounts >= 20k records) or pgvector |
|   | (PostgreSQL only); unset: the store's default (SQLite: exact, PostgreSQL: pgvector) |
| OGMEM_DECAY_HALF_LIFE_DAYS | the decay ranking weight (off when unset; retrieval/decay.py) |
| OGMEM_VECTOR_CACHE_MB | memory for the in-process vector cache (exact, hnsw), default 512: |
|   | beyond it the least recently searched owners' vectors are dropped (read again when needed) |
| OGMEM_METRICS_PORT, OGMEM_METRICS_HOST | `ogmem serve`'s /metrics address (off; 127.0.0.1) |
| OGMEM_KEEP_MESSAGES | LLM mode also remembers each message as a raw memory: true (default) |
|   | or false (only the model's memories; raw mode ignores it: the messages are its memories) |
| OGMEM_DREAM_AFTER | queue a user's dream after N new memories: "200", "event=200,*=50" (off) |
| OGMEM_MAX_BODY_BYTES, OGMEM_BODY_TIMEOUT_S, ... | the server's limits (ogmem/limits.py) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from ogmem.core import errors
from ogmem.dream.trigger import parse_thresholds
from ogmem.limits import ServerLimits

ENV_PREFIX = "OGMEM_"
DEFAULT_STORE_FILE = "ogmem.sqlite"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    store: str
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    embedder: str = "minilm"
    embedder_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    vector_index: str | None = None  # None: the store's default
    vector_cache_mb: int | None = None  # None: ogmem.index.owner_cache.DEFAULT_BUDGET_MB
    limits: ServerLimits = field(default_factory=ServerLimits)
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    serve_processes: int = 1  # ogmem serve's processes (ogmem.server.processes)
    decay_half_life_days: float | None = None  # None: no decay weight in search
    dream_after: Mapping[str, int] = field(default_factory=dict)  # type -> new memories
    keep_messages: bool = True  # LLM mode: each message also kept as a raw memory

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(ENV_PREFIX + name) or None

        data_dir = Path(get("DATA_DIR") or platformdirs.user_data_dir("ogmem")).expanduser()
        return cls(
            data_dir=data_dir,
            store=get("STORE") or str(data_dir / DEFAULT_STORE_FILE),
            llm_base_url=get("LLM_BASE_URL"),
            llm_model=get("LLM_MODEL"),
            llm_api_key=get("LLM_API_KEY"),
            embedder=get("EMBEDDER") or "minilm",
            embedder_options=_embedder_options(get),
            vector_index=get("VECTOR_INDEX"),
            vector_cache_mb=_number(get, "VECTOR_CACHE_MB", int),
            limits=_limits(get),
            metrics_port=_number(get, "METRICS_PORT", int),
            metrics_host=get("METRICS_HOST") or "127.0.0.1",
            serve_processes=_number(get, "SERVE_PROCESSES", int) or 1,
            decay_half_life_days=_number(get, "DECAY_HALF_LIFE_DAYS", float),
            dream_after=parse_thresholds(get("DREAM_AFTER")),
            keep_messages=_flag(get, "KEEP_MESSAGES", default=True),
        )

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model)


_LIMITS = (
    ("MAX_BODY_BYTES", "max_body_bytes", int),
    ("BODY_TIMEOUT_S", "body_timeout_s", float),
    ("REQUEST_TIMEOUT_S", "request_timeout_s", float),
    ("AUTH_FAILURES_PER_MINUTE", "auth_failures_per_minute", int),
    ("KEEP_ALIVE_S", "keep_alive_s", int),
    ("MAX_CONNECTIONS", "max_connections", int),
    ("TURN_THREADS", "turn_threads", int),
    ("APPEND_HEAD_START_MS", "append_head_start_ms", int),
)


def _number(get: Any, name: str, cast: type[int] | type[float]) -> Any:
    value = get(name)
    if value is None:
        return None
    try:
        number = cast(value)
    except ValueError as exc:
        raise errors.ConfigurationError(f"{ENV_PREFIX}{name}={value!r} is not a number") from exc
    if number <= 0:
        raise errors.ConfigurationError(f"{ENV_PREFIX}{name}={value!r} must be positive")
    return number


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _flag(get: Any, name: str, *, default: bool) -> bool:
    value = get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise errors.ConfigurationError(
        f"{ENV_PREFIX}{name}={value!r} must be one of {', '.join(_TRUE + _FALSE)}"
    )


def _limits(get: Any) -> ServerLimits:
    given = {key: _number(get, name, cast) for name, key, cast in _LIMITS}
    return ServerLimits(**{key: value for key, value in given.items() if value is not None})


def _embedder_options(get: Any) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, key, cast in (
        ("EMBEDDER_MODEL", "model", str),
        ("EMBEDDER_BASE_URL", "base_url", str),
        ("EMBEDDER_API_KEY", "api_key", str),
        ("EMBEDDER_DIMENSIONS", "dimensions", int),
        ("EMBEDDER_BATCH_SIZE", "batch_size", int),
        ("EMBEDDER_THREADS", "threads", int),
    ):
        value = get(name)
        if value is not None:
            try:
                options[key] = cast(value)
            except ValueError as exc:
                raise errors.ConfigurationError(
                    f"{ENV_PREFIX}{name}={value!r} is not a number"
                ) from exc
    return options
