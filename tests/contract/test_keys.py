"""API keys: shown once, stored hashed, revocable, scoped by account."""

from __future__ import annotations

import hashlib

import pytest

from ogmem.core.storage import Backend
from ogmem.keys import KeyInfo, Keys
from tests.raw import raw_rows


@pytest.fixture
def keys(backend: Backend) -> Keys:
    return Keys(backend.keys)


def test_create_returns_the_key_once_and_stores_only_its_hash(backend: Backend, keys: Keys) -> None:
    info, plaintext = keys.create("acme", "alice", admin=True, name="laptop")
    assert plaintext.startswith("ogm_") and len(plaintext) >= 4 + 43
    assert info == KeyInfo(info.key_id, "acme", "alice", True, "laptop", info.created_at)
    dump = str(raw_rows(backend, "SELECT * FROM api_keys"))
    assert plaintext not in dump
    assert hashlib.sha256(plaintext.encode()).hexdigest() in dump


def test_verify_finds_the_key_and_records_its_use(keys: Keys) -> None:
    info, plaintext = keys.create("acme")
    found = keys.verify(plaintext)
    assert found is not None and found.key_id == info.key_id and found.user_id is None
    assert keys.list_keys("acme")[0].last_used_at is not None
    assert keys.verify(plaintext + "x") is None
    assert keys.verify("not-a-key") is None
    assert keys.verify("") is None


def test_revoked_keys_never_verify(keys: Keys) -> None:
    info, plaintext = keys.create("acme")
    assert keys.has_active() and keys.has_active("acme") and not keys.has_active("other")
    assert keys.revoke(info.key_id)
    assert keys.verify(plaintext) is None
    assert not keys.revoke(info.key_id)  # already revoked
    assert not keys.revoke("key_unknown")
    assert not keys.has_active()
    listed = keys.list_keys()
    assert len(listed) == 1 and listed[0].revoked_at is not None and not listed[0].active


def test_list_is_scoped_by_account(keys: Keys) -> None:
    keys.create("acme", name="a")
    keys.create("globex", name="g")
    assert [k.name for k in keys.list_keys("acme")] == ["a"]
    assert sorted(k.account_id for k in keys.list_keys()) == ["acme", "globex"]
    other = keys.list_keys("globex")[0]
    assert not keys.revoke(other.key_id, account_id="acme")  # not acme's key to revoke
    assert keys.list_keys("globex")[0].active


def test_keys_are_distinct(keys: Keys) -> None:
    made = {keys.create("acme")[1] for _ in range(20)}
    assert len(made) == 20
