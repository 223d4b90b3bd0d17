"""ogmem: long-term memory and context engine for AI agents.

The public API is re-exported here; everything else is internal and may change.
"""

from __future__ import annotations

from ogmem.client import Client
from ogmem.core import errors
from ogmem.core.errors import (
    ConcurrentModificationError,
    InvalidCandidate,
    InvalidURI,
    NotFound,
    OgmemError,
    SchemaError,
)
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    ContextType,
    Message,
    NodeStatus,
    OutboxEvent,
    RequestContext,
    WriteAction,
    WritePlan,
    WriteResult,
    WriteStatus,
)
from ogmem.engine import Engine
from ogmem.llm.openai_client import OpenAIClient
from ogmem.llm.scripted import ScriptedLLM
from ogmem.schemas.registry import MemoryType, SchemaRegistry
from ogmem.store import open_backend

__version__ = "0.1.0"

__all__ = [
    "CandidateMemory",
    "Client",
    "ConcurrentModificationError",
    "ContextNode",
    "ContextType",
    "Engine",
    "InvalidCandidate",
    "InvalidURI",
    "MemoryType",
    "Message",
    "NodeStatus",
    "NotFound",
    "OgmemError",
    "OpenAIClient",
    "OutboxEvent",
    "RequestContext",
    "SchemaError",
    "SchemaRegistry",
    "ScriptedLLM",
    "WriteAction",
    "WritePlan",
    "WriteResult",
    "WriteStatus",
    "errors",
    "open_backend",
]
