"""SqlNodeStore: the NodeStore port over any SQL connector (the named queries of its dialect)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ogmem.core import errors
from ogmem.core.models import AppliedOp, ContextNode, NodeVersion
from ogmem.store import rows
from ogmem.store.database import Database


def prefix_range(uri: str) -> dict[str, Any]:
    """Bounds of every URI strictly below ``uri``, for an index range scan ('0' follows '/';
    both dialects compare URIs bytewise)."""
    prefix = uri.rstrip("/")
    return {"lower": prefix + "/", "upper": prefix + "0", "prefix_length": len(prefix) + 1}


class SqlNodeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, account_id: str, uri: str) -> ContextNode | None:
        row = self._db.fetch_one("read_node", account_id=account_id, uri=uri)
        return None if row is None else rows.node_from_row(row)

    def find_many(self, account_id: str, uris: Sequence[str]) -> dict[str, ContextNode]:
        found = self._db.fetch_all("read_nodes", account_id=account_id, uris=list(uris))
        return {row["uri"]: rows.node_from_row(row) for row in found}

    def version_of(self, account_id: str, uri: str) -> int | None:
        row = self._db.fetch_one("node_version", account_id=account_id, uri=uri)
        return None if row is None else int(row["version"])

    def subtree(self, account_id: str, uri: str) -> list[ContextNode]:
        found = self._db.fetch_all(
            "subtree", account_id=account_id, uri=uri.rstrip("/"), **prefix_range(uri)
        )
        return [rows.node_from_row(row) for row in found]

    def subtree_counts(self, account_id: str, uri: str) -> list[tuple[str, str, int]]:
        found = self._db.fetch_all(
            "subtree_counts", account_id=account_id, uri=uri.rstrip("/"), **prefix_range(uri)
        )
        return [(row["category"], row["status"], int(row["n"])) for row in found]

    def subtree_page(
        self, account_id: str, uri: str, category: str, status: str, limit: int
    ) -> list[ContextNode]:
        found = self._db.fetch_all(
            "subtree_page", account_id=account_id, uri=uri.rstrip("/"), category=category,
            status=status, limit=limit, **prefix_range(uri),
        )  # fmt: skip
        return [rows.node_from_row(row) for row in found]

    def child_directories(self, account_id: str, uri: str) -> list[str]:
        found = self._db.fetch_all("child_directories", account_id=account_id, **prefix_range(uri))
        return [row["name"] for row in found]

    def child_names(self, account_id: str, uri: str) -> list[tuple[str, bool]]:
        found = self._db.fetch_all("child_names", account_id=account_id, **prefix_range(uri))
        return [(row["name"], bool(row["is_dir"])) for row in found]

    def direct_children(self, account_id: str, uri: str) -> list[ContextNode]:
        found = self._db.fetch_all("direct_children", account_id=account_id, **prefix_range(uri))
        return [rows.node_from_row(row) for row in found]

    def active_children(
        self, account_id: str, uri: str, limit: int
    ) -> tuple[int, list[ContextNode]]:
        bounds = prefix_range(uri)  # SQLite reads by parent: "lower", the URI and its "/"
        count = self._db.fetch_one("count_active_children", account_id=account_id, **bounds)
        recent = self._db.fetch_all(
            "recent_active_children", account_id=account_id, limit=limit, **bounds
        )
        return (int(count["n"]) if count else 0), [rows.node_from_row(r) for r in recent]

    def history(self, account_id: str, uri: str) -> list[NodeVersion]:
        found = self._db.fetch_all("history", account_id=account_id, uri=uri)
        return [rows.version_from_row(r) for r in found]

    def applied_among(self, account_id: str, fingerprints: Sequence[str]) -> set[str]:
        found = self._db.fetch_all(
            "applied_among", account_id=account_id, fingerprints=list(fingerprints)
        )
        return {row["fingerprint"] for row in found}

    def find_applied(self, account_id: str, fingerprint: str) -> AppliedOp | None:
        row = self._db.fetch_one("find_applied", account_id=account_id, fingerprint=fingerprint)
        return None if row is None else rows.applied_from_row(row)

    def insert(self, nodes: Sequence[ContextNode]) -> None:
        try:
            self._db.execute_many("insert_node", [rows.node_params(n) for n in nodes])
        except errors.UniqueViolation as exc:
            node = nodes[0]
            uri = node.uri if len(nodes) == 1 else f"one of {len(nodes)} new nodes"
            actual = self.version_of(node.account_id, node.uri) if len(nodes) == 1 else None
            raise errors.ConcurrentModificationError(uri, None, actual) from exc

    def update(self, node: ContextNode, expected_version: int) -> bool:
        params = rows.node_params(node)
        return self._db.execute("update_node", expected_version=expected_version, **params) == 1

    def update_many(self, updates: Sequence[tuple[ContextNode, int]]) -> int:
        return self._db.execute_many(
            "update_node",
            [{**rows.node_params(n), "expected_version": v} for n, v in updates],
        )

    def delete(self, account_id: str, uri: str, expected_version: int) -> bool:
        changed = self._db.execute(
            "delete_node", account_id=account_id, uri=uri, expected_version=expected_version
        )
        return changed == 1

    def rename(self, account_id: str, src: str, dst: str, expected_version: int) -> bool:
        changed = self._db.execute(
            "move_node", account_id=account_id, src=src, dst=dst, expected_version=expected_version
        )
        return changed == 1

    def record_versions(self, account_id: str, uris: Sequence[str], action: str) -> None:
        self._db.execute_many(
            "insert_version",
            [{"account_id": account_id, "uri": uri, "action": action} for uri in uris],
        )

    def insert_history(self, versions: Sequence[NodeVersion]) -> None:
        try:
            self._db.execute_many("insert_version_row", [rows.version_params(v) for v in versions])
        except errors.UniqueViolation as exc:
            raise errors.ConcurrentModificationError(
                f"one of {len(versions)} history rows", None, None
            ) from exc

    def move_history(self, account_id: str, src: str, dst: str) -> None:
        self._db.execute("move_versions", account_id=account_id, src=src, dst=dst)

    def delete_history(self, account_id: str, uri: str) -> None:
        self._db.execute("delete_versions", account_id=account_id, uri=uri)

    def record_applied(self, ops: Sequence[AppliedOp]) -> None:
        try:
            self._db.execute_many("insert_applied", [rows.applied_params(op) for op in ops])
        except errors.UniqueViolation as exc:
            uri = ops[0].uri if len(ops) == 1 else None
            raise errors.DuplicateOperation(ops[0].fingerprint, uri) from exc

    def forget_applied(self, account_id: str, uri: str) -> None:
        self._db.execute("delete_applied_for_uri", account_id=account_id, uri=uri)

    def move_applied(self, account_id: str, src: str, dst: str) -> None:
        self._db.execute("move_applied", account_id=account_id, src=src, dst=dst)

    def expired(self, account_id: str, now: datetime, limit: int) -> list[tuple[str, int]]:
        found = self._db.fetch_all("expired_nodes", account_id=account_id, now=now, limit=limit)
        return [(row["uri"], int(row["version"])) for row in found]

    def account_ids(self) -> list[str]:
        found = self._db.fetch_all("account_ids", after_account_id="")
        return [row["account_id"] for row in found]

    # -- bulk export and import ---------------------------------------------------------------

    def export_nodes(self, account_id: str, after_uri: str, limit: int) -> list[ContextNode]:
        found = self._db.fetch_all(
            "export_nodes", account_id=account_id, after_uri=after_uri, limit=limit
        )
        return [rows.node_from_row(row) for row in found]

    def history_of_many(self, account_id: str, uris: Sequence[str]) -> dict[str, list[NodeVersion]]:
        found = self._db.fetch_all("history_of_uris", account_id=account_id, uris=list(uris))
        by_uri: dict[str, list[NodeVersion]] = {}
        for row in found:
            by_uri.setdefault(row["uri"], []).append(rows.version_from_row(row))
        return by_uri

    def import_versions(self, versions: Sequence[NodeVersion]) -> None:
        self._db.execute_many("import_version", [rows.version_params(v) for v in versions])

    def export_applied(self, account_id: str, after: str, limit: int) -> list[AppliedOp]:
        found = self._db.fetch_all(
            "export_applied", account_id=account_id, after=after, limit=limit
        )
        return [rows.applied_from_row(row) for row in found]
