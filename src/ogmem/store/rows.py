"""Converting domain objects to and from rows; shared by every SQL dialect.

Parameters are plain Python values (the connector encodes them for its database); loaders
take a value as either driver returns it (text or datetime, JSON text or dict, a blob or an
array)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from ogmem.core.models import (
    AppliedOp,
    ContextNode,
    ContextType,
    EventStatus,
    EventType,
    NodeStatus,
    NodeVersion,
    OutboxEvent,
    as_utc,
)

Row = Mapping[str, Any]


def dump_time(value: datetime) -> str:
    # fixed width (always microseconds), so that SQL compares timestamps as text correctly
    if value.tzinfo is not UTC:  # ours are UTC already; converting costs a third of the call
        value = as_utc(value)
    return value.isoformat(timespec="microseconds")


def load_time(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _required_time(value: str | datetime) -> datetime:
    loaded = load_time(value)
    assert loaded is not None
    return loaded


# default=str keeps dates and enums readable instead of failing the whole write; one encoder,
# because json.dumps with any option builds a new one per call (9 % of a write, measured)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def dump_json(value: Mapping[str, Any]) -> str:
    return _ENCODER.encode(value)


def dump_json_value(value: Any) -> str:
    return _ENCODER.encode(value)


def load_list(value: str | list[Any] | None) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    loaded = json.loads(value)
    return loaded if isinstance(loaded, list) else []


def to_blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def load_vector(value: bytes | npt.NDArray[Any] | Sequence[float]) -> npt.NDArray[np.float32]:
    """A vector as stored: a float32 blob (SQLite) or an array (pgvector)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return np.frombuffer(value, dtype="<f4").astype(np.float32)
    return np.asarray(value, dtype=np.float32)


_DECODE = json.JSONDecoder().decode  # json.loads checks its argument's type before this


def load_json(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if type(value) is str:
        loaded = _DECODE(value)
        return loaded if type(loaded) is dict else {}
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    loaded = json.loads(value)
    return loaded if isinstance(loaded, dict) else {}


def node_params(node: ContextNode) -> dict[str, Any]:
    return {
        "account_id": node.account_id,
        "uri": node.uri,
        "context_type": node.context_type.value,
        "category": node.category,
        "owner_space": node.owner_space,
        "abstract": node.abstract,
        "overview": node.overview,
        "content": node.content,
        "metadata": node.metadata,
        "status": node.status.value,
        "version": node.version,
        "created_at": node.created_at,
        "updated_at": node.updated_at,
        "valid_from": node.valid_from,
        "valid_to": node.valid_to,
        "expires_at": node.expires_at,
    }


# enum members by value: a dict lookup costs a fifth of calling the enum (search reads a few
# hundred nodes per query); an unknown value still goes to the enum, for its error
_CONTEXT_TYPES = {member.value: member for member in ContextType}
_NODE_STATUSES = {member.value: member for member in NodeStatus}


def node_from_row(row: Row) -> ContextNode:
    context_type, status = row["context_type"], row["status"]
    return ContextNode(
        account_id=row["account_id"],
        uri=row["uri"],
        context_type=_CONTEXT_TYPES.get(context_type) or ContextType(context_type),
        category=row["category"],
        owner_space=row["owner_space"],
        abstract=row["abstract"],
        overview=row["overview"],
        content=row["content"],
        metadata=load_json(row["metadata"]),
        status=_NODE_STATUSES.get(status) or NodeStatus(status),
        version=row["version"],
        created_at=_required_time(row["created_at"]),
        updated_at=_required_time(row.get("updated_at") or row["written_at"]),
        valid_from=load_time(row.get("valid_from")),
        valid_to=load_time(row.get("valid_to")),
        expires_at=load_time(row.get("expires_at")),
    )


def version_from_row(row: Row) -> NodeVersion:
    return NodeVersion(
        node=node_from_row(row),
        action=row["action"],
        written_at=_required_time(row["written_at"]),
    )


def version_params(version: NodeVersion) -> dict[str, Any]:
    params = node_params(version.node)
    del params["updated_at"]
    return {**params, "action": version.action, "written_at": version.written_at}


def event_params(event: OutboxEvent) -> dict[str, Any]:
    return {
        "account_id": event.account_id,
        "type": event.type.value,
        "uri": event.uri,
        "payload": event.payload,
        "available_at": event.available_at,
        "created_at": event.created_at,
    }


def event_from_row(row: Row) -> OutboxEvent:
    return OutboxEvent(
        id=row["id"],
        account_id=row["account_id"],
        type=EventType(row["type"]),
        uri=row["uri"],
        payload=load_json(row["payload"]),
        status=EventStatus(row["status"]),
        attempts=row["attempts"],
        available_at=_required_time(row["available_at"]),
        locked_until=load_time(row["locked_until"]),
        last_error=row["last_error"],
        created_at=_required_time(row["created_at"]),
    )


def applied_from_row(row: Row) -> AppliedOp:
    return AppliedOp(
        account_id=row["account_id"],
        fingerprint=row["fingerprint"],
        uri=row["uri"],
        action=row["action"],
        version=row["version"],
        applied_at=_required_time(row["applied_at"]),
    )


def applied_params(op: AppliedOp) -> dict[str, Any]:
    return {
        "account_id": op.account_id,
        "fingerprint": op.fingerprint,
        "uri": op.uri,
        "action": op.action,
        "version": op.version,
        "applied_at": op.applied_at,
    }
