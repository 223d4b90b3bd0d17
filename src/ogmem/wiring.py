"""Building an Engine from Settings: the one place where configuration becomes objects.

A setting that cannot work names the variable to set (the SDK's own messages name
OPENAI_API_KEY and parameters, which an ogmem user never sets)."""

from __future__ import annotations

import logging

from ogmem.core import errors
from ogmem.core.ports import Embedder, LLMClient
from ogmem.engine import Engine
from ogmem.index.embedders import make_embedder
from ogmem.retrieval.decay import Decay
from ogmem.settings import ENV_PREFIX, Settings

logger = logging.getLogger(__name__)
# what the openai embedder needs, and the variable that gives it
OPENAI_EMBEDDER_NEEDS = (
    ("base_url", "EMBEDDER_BASE_URL"),
    ("model", "EMBEDDER_MODEL"),
    ("dimensions", "EMBEDDER_DIMENSIONS"),
)


def llm_from(settings: Settings) -> LLMClient | None:
    if not settings.llm_configured:
        if settings.llm_base_url:
            logger.warning(
                "%sLLM_BASE_URL is set but %sLLM_MODEL is not: no LLM is used (raw mode, "
                "deterministic merges); set %sLLM_MODEL to use it",
                ENV_PREFIX, ENV_PREFIX, ENV_PREFIX,
            )  # fmt: skip
        return None
    from ogmem.llm.openai_client import OpenAIClient

    try:
        return OpenAIClient(
            base_url=settings.llm_base_url,
            model=str(settings.llm_model),
            api_key=settings.llm_api_key,
        )
    except errors.ConfigurationError as exc:
        if settings.llm_api_key:
            raise
        raise errors.ConfigurationError(
            f"{ENV_PREFIX}LLM_MODEL is set but {ENV_PREFIX}LLM_API_KEY is not: set it to the "
            "endpoint's key (any value for a server without authentication)"
        ) from exc


def embedder_from(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        missing = [
            ENV_PREFIX + name
            for option, name in OPENAI_EMBEDDER_NEEDS
            if settings.embedder_options.get(option) is None
        ]
        if missing:
            raise errors.ConfigurationError(
                f"{ENV_PREFIX}EMBEDDER=openai needs {', '.join(missing)} "
                "(e.g. https://api.openai.com/v1, text-embedding-3-small, 512)"
            )
    try:
        return make_embedder(settings.embedder, **settings.embedder_options)
    except errors.ConfigurationError as exc:
        if settings.embedder == "openai" and not settings.embedder_options.get("api_key"):
            raise errors.ConfigurationError(
                f"{ENV_PREFIX}EMBEDDER=openai needs {ENV_PREFIX}EMBEDDER_API_KEY (any value "
                "for a server without authentication)"
            ) from exc
        raise


def open_engine(
    settings: Settings, *, worker: bool = False, llm: LLMClient | None = None
) -> Engine:
    """The engine the settings describe; ``worker`` starts the in-process indexer thread;
    ``llm`` replaces the configured model (the LoCoMo replay)."""
    return Engine.open(
        settings.store, llm=llm or llm_from(settings), embedder=embedder_from(settings),
        worker=worker, vector_index=settings.vector_index, decay=decay_from(settings),
        dream_after=settings.dream_after, vector_cache_mb=settings.vector_cache_mb,
        keep_messages=settings.keep_messages,
    )  # fmt: skip


def decay_from(settings: Settings) -> Decay | None:
    days = settings.decay_half_life_days
    return None if days is None else Decay(half_life_days=days)
