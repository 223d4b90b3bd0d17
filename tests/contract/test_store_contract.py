"""The Store contract; every adapter runs it (the `store` fixture is parametrised)."""

from __future__ import annotations

import pytest

from ogmem.core import errors
from ogmem.core.models import (
    ContextType,
    EventStatus,
    EventType,
    NewNode,
    NodeChain,
    NodeStatus,
    OutboxEvent,
    utcnow,
)
from ogmem.core.storage import Backend
from ogmem.nodes import Nodes
from tests.conftest import make_node

URI = "ctx://acme/users/alice/memories/preferences/editor"


def _event(uri: str = URI, account: str = "acme") -> OutboxEvent:
    return OutboxEvent(account, EventType.UPSERT_CONTEXT, uri, {"version": 1})


def _create(store: Nodes, **fields: object) -> None:
    store.write_node_with_outbox(make_node(**fields), [_event()], expected_version=None)


def test_create_then_read(store: Nodes) -> None:
    created = store.write_node_with_outbox(
        make_node(metadata={"k": [1, "x"]}), [_event()], expected_version=None
    )
    assert created.version == 1
    node = store.read_node("acme", URI)
    assert (node.version, node.abstract, dict(node.metadata)) == (1, "Prefers vim", {"k": [1, "x"]})
    assert node.status is NodeStatus.ACTIVE
    assert store.exists("acme", URI)


def test_update_requires_the_expected_version(store: Nodes) -> None:
    _create(store)
    updated = store.write_node_with_outbox(make_node(content="neovim"), [], expected_version=1)
    assert updated.version == 2
    with pytest.raises(errors.ConcurrentModificationError) as info:
        store.write_node_with_outbox(make_node(content="emacs"), [], expected_version=1)
    assert (info.value.expected_version, info.value.actual_version) == (1, 2)
    assert store.read_node("acme", URI).content == "neovim"


def test_create_over_an_existing_node_is_a_conflict(store: Nodes) -> None:
    _create(store)
    with pytest.raises(errors.ConcurrentModificationError) as info:
        _create(store)
    assert (info.value.expected_version, info.value.actual_version) == (None, 1)


def test_update_of_a_missing_node_is_a_conflict(store: Nodes) -> None:
    with pytest.raises(errors.ConcurrentModificationError) as info:
        store.write_node_with_outbox(make_node(), [], expected_version=3)
    assert info.value.actual_version is None


def test_read_missing_raises_not_found(store: Nodes) -> None:
    with pytest.raises(errors.NotFound):
        store.read_node("acme", URI)
    assert store.find_node("acme", URI) is None
    assert not store.exists("acme", URI)


def test_every_version_is_in_history(store: Nodes) -> None:
    _create(store)
    store.write_node_with_outbox(make_node(content="v2"), [], expected_version=1, action="merge")
    history = store.history("acme", URI)
    assert [(h.node.version, h.action) for h in history] == [(1, "write"), (2, "merge")]
    assert history[0].node.content == "Alice edits in vim."


def test_outbox_events_commit_with_the_node(store: Nodes) -> None:
    _create(store)
    events = store.list_events("acme")
    assert [(e.type, e.uri, e.status) for e in events] == [
        (EventType.UPSERT_CONTEXT, URI, EventStatus.PENDING)
    ]
    assert store.outbox_counts("acme")["PENDING"] == 1
    assert store.list_events("acme", EventStatus.DONE) == []


def test_idempotency_fingerprint_is_applied_once(store: Nodes) -> None:
    store.write_node_with_outbox(make_node(), [_event()], expected_version=None, fingerprint="fp1")
    applied = store.find_applied("acme", "fp1")
    assert applied is not None and (applied.uri, applied.version) == (URI, 1)
    with pytest.raises(errors.DuplicateOperation):
        store.write_node_with_outbox(
            make_node(content="x"), [_event()], expected_version=1, fingerprint="fp1"
        )
    assert store.read_node("acme", URI).version == 1
    assert len(store.list_events("acme")) == 1


def test_archive_checks_version_and_keeps_the_node(store: Nodes) -> None:
    _create(store)
    with pytest.raises(errors.ConcurrentModificationError):
        store.archive_node("acme", URI, expected_version=7, events=[], archived_at=utcnow())
    archived = store.archive_node(
        "acme", URI, expected_version=1, events=[_event()], archived_at=utcnow()
    )
    assert (archived.status, archived.version) == (NodeStatus.ARCHIVED, 2)
    assert "archived_at" in archived.metadata
    assert [h.action for h in store.history("acme", URI)] == ["write", "archive"]


def test_delete_checks_version_and_removes_node_and_history(store: Nodes) -> None:
    _create(store)
    with pytest.raises(errors.ConcurrentModificationError):
        store.delete_node("acme", URI, expected_version=2, events=[])
    store.delete_node("acme", URI, expected_version=1, events=[_event()])
    assert not store.exists("acme", URI)
    assert store.history("acme", URI) == []


def test_move_renames_node_and_history(store: Nodes) -> None:
    _create(store)
    dst = URI + "-tool"
    moved = store.move_node("acme", URI, dst, expected_version=1, events=[])
    assert (moved.uri, moved.version) == (dst, 2)
    assert not store.exists("acme", URI)
    assert [h.node.uri for h in store.history("acme", dst)] == [dst, dst]


def test_move_onto_an_existing_node_is_refused(store: Nodes) -> None:
    _create(store)
    other = make_node(path="users/alice/memories/preferences/shell")
    store.write_node_with_outbox(other, [], expected_version=None)
    with pytest.raises(errors.AlreadyExists):
        store.move_node("acme", URI, other.uri, expected_version=1, events=[])
    assert store.read_node("acme", URI).version == 1


def test_list_children_and_tree(store: Nodes) -> None:
    for path in (
        "users/alice/memories/preferences/editor",
        "users/alice/memories/preferences/shell",
        "users/alice/memories/profile/profile",
        "users/alice2/memories/profile/profile",
    ):
        store.write_node_with_outbox(make_node(path=path), [], expected_version=None)
    entries = store.list_children("acme", "ctx://acme/users/alice/memories")
    assert [(e.name, e.is_dir) for e in entries] == [("preferences", True), ("profile", True)]
    leaves = store.list_children("acme", "ctx://acme/users/alice/memories/preferences/")
    assert [(e.name, e.is_dir, e.node is not None) for e in leaves] == [
        ("editor", False, True),
        ("shell", False, True),
    ]
    tree = store.tree("acme", "ctx://acme/users/alice")
    assert [n.uri.rsplit("/", 2)[-2] for n in tree] == ["preferences", "preferences", "profile"]


def test_active_children_counts_all_and_returns_the_newest(store: Nodes) -> None:
    base = "users/alice/memories/events"
    for name in ("a", "b", "c", "d"):
        store.write_node_with_outbox(make_node(path=f"{base}/{name}"), [], expected_version=None)
    store.write_node_with_outbox(make_node(path=f"{base}/a", abstract="a again"), [],
                                 expected_version=1)  # fmt: skip
    store.archive_node("acme", f"ctx://acme/{base}/b", expected_version=1, events=[],
                       archived_at=utcnow())  # fmt: skip
    for path, kind in ((base, ContextType.DIRECTORY), (f"{base}/sub/e", ContextType.MEMORY)):
        store.write_node_with_outbox(make_node(path=path, context_type=kind), [],
                                     expected_version=None)  # fmt: skip

    count, newest = store.active_children("acme", f"ctx://acme/{base}", limit=2)

    # archived b, the directory's own summary and the grandchild e are not counted
    assert count == 3
    assert [n.uri.rsplit("/", 1)[-1] for n in newest] == ["a", "d"]
    assert newest[0].abstract == "a again"
    assert store.active_children("acme", f"ctx://acme/{base}/sub", limit=5)[0] == 1


def test_create_nodes_with_outbox_is_all_or_nothing(store: Nodes) -> None:
    base = "users/alice/memories/events"
    new = [
        NewNode(make_node(path=f"{base}/{name}"), (_event(f"ctx://acme/{base}/{name}"),),
                f"fp-{name}")
        for name in ("a", "b")
    ]  # fmt: skip
    created = store.create_nodes_with_outbox(new)
    assert [n.version for n in created] == [1, 1]
    assert all(len(store.history("acme", n.uri)) == 1 for n in created)
    assert store.applied_fingerprints("acme", ["fp-a", "fp-b", "fp-c"]) == {"fp-a", "fp-b"}
    assert len(store.list_events("acme")) == 2

    clash = [NewNode(make_node(path=f"{base}/c"), (), "fp-c"), new[1]]  # b exists already
    with pytest.raises(errors.ConcurrentModificationError):
        store.create_nodes_with_outbox(clash)
    assert not store.exists("acme", f"ctx://acme/{base}/c")
    assert store.applied_fingerprints("acme", ["fp-c"]) == set()
    assert len(store.list_events("acme")) == 2


def _chain(expected: int | None, path: str, *contents: str) -> NodeChain:
    uri = f"ctx://acme/{path}"
    return NodeChain(
        expected,
        tuple(
            NewNode(make_node(path=path, content=text), (_event(uri),), f"fp-{path}-{text}",
                    "create" if expected is None and step == 0 else "merge")
            for step, text in enumerate(contents)
        ),
    )  # fmt: skip


def test_write_chains_stores_every_write_as_a_version(store: Nodes) -> None:
    base = "users/alice/memories/preferences"
    _create(store)  # editor at v1
    chains = [_chain(None, f"{base}/tea", "green", "green, then black"),
              _chain(1, f"{base}/editor", "neovim", "helix")]  # fmt: skip
    written = store.write_chains(chains)

    assert [[n.version for n in nodes] for nodes in written] == [[1, 2], [2, 3]]
    tea = store.read_node("acme", f"ctx://acme/{base}/tea")
    assert (tea.version, tea.content) == (2, "green, then black")
    assert tea.created_at == written[0][0].created_at
    history = store.history("acme", tea.uri)
    assert [(v.node.version, v.action, v.node.content) for v in history] == [
        (1, "create", "green"), (2, "merge", "green, then black"),
    ]  # fmt: skip
    editor = store.read_node("acme", URI)
    assert (editor.version, editor.content) == (3, "helix")
    assert [v.node.content for v in store.history("acme", URI)][1:] == ["neovim", "helix"]
    applied = store.find_applied("acme", f"fp-{base}/editor-neovim")
    assert applied is not None and (applied.uri, applied.version) == (URI, 2)
    assert len(store.list_events("acme", limit=10)) == 1 + 4


def test_write_chains_is_all_or_nothing(store: Nodes) -> None:
    base = "users/alice/memories/preferences"
    _create(store)
    fresh = _chain(None, f"{base}/tea", "green")
    for refused, error in (
        (_chain(5, "users/alice/memories/preferences/editor", "stale"),
         errors.ConcurrentModificationError),  # the node is at v1, not v5
        (_chain(None, "users/alice/memories/preferences/editor", "taken"),
         errors.ConcurrentModificationError),  # the URI is taken
        (NodeChain(1, (NewNode(make_node(content="again"), (), "fp-dup", "merge"),) * 2),
         errors.DuplicateOperation),  # one fingerprint twice
    ):  # fmt: skip
        with pytest.raises(error):
            store.write_chains([fresh, refused])
        assert not store.exists("acme", f"ctx://acme/{base}/tea")
        assert store.read_node("acme", URI).version == 1
        assert len(store.history("acme", URI)) == 1
        assert len(store.list_events("acme", limit=10)) == 1


def test_the_store_is_writable_and_says_where_it_is(backend: Backend) -> None:
    backend.uow.check_writable()
    assert backend.uow.describe()
