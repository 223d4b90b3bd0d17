"""Building an Engine from Settings: the one place where configuration becomes objects."""

from __future__ import annotations

from ogmem.core.ports import LLMClient
from ogmem.engine import Engine
from ogmem.index.embedders import make_embedder
from ogmem.settings import Settings


def llm_from(settings: Settings) -> LLMClient | None:
    if not settings.llm_configured:
        return None
    from ogmem.llm.openai_client import OpenAIClient

    return OpenAIClient(
        base_url=settings.llm_base_url, model=str(settings.llm_model), api_key=settings.llm_api_key
    )


def open_engine(settings: Settings, *, worker: bool = False) -> Engine:
    """The engine the settings describe; ``worker`` starts the in-process indexer thread."""
    embedder = make_embedder(settings.embedder, **settings.embedder_options)
    return Engine.open(
        settings.store, llm=llm_from(settings), embedder=embedder, worker=worker,
        vector_index=settings.vector_index,
    )  # fmt: skip
