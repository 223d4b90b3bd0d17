"""The CLI says where it looked (issue 11): empty answers name the store, account and user;
options before the command; whole URIs and key ids; --json; one-line errors; the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONVERSATION = {
    "session_id": "chat-1",
    "user_id": "bob",
    "messages": [
        {"role": "user", "content": "Slowly. I practise Portuguese every evening."},
        {"role": "assistant", "content": "Nice."},
        {"role": "user", "content": "My sister Ana lives in Porto with her two cats."},
    ],
}
EVENTS = "ctx://default/users/bob/memories/events"


def _ogmem(
    *args: str, env: dict[str, str] | None = None, columns: int = 80
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from ogmem.cli import main; main()", *args]
    environment = {**os.environ, "COLUMNS": str(columns), "OGMEM_EMBEDDER": "hash", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)


@pytest.fixture
def store(tmp_path: Path) -> dict[str, str]:
    """A store holding bob's conversation, ingested and committed."""
    env = {"OGMEM_STORE": str(tmp_path / "s.sqlite")}
    conversation = tmp_path / "conversation.json"
    conversation.write_text(json.dumps(CONVERSATION))
    done = _ogmem("ingest", str(conversation), env=env)
    assert done.returncode == 0, done.stderr
    assert "ingested 1 sessions, 3 messages; 2 memories written" in done.stdout
    return env


def test_an_empty_answer_says_where_it_looked(store: dict[str, str]) -> None:
    for command in (["ls", "ctx://default/users/alice"], ["search", "sister"], ["sessions"]):
        out = _ogmem(*command, env=store).stdout
        assert store["OGMEM_STORE"] in out, command
        assert "account 'default', user 'default'" in out and "--user" in out, command
        assert "--all-users" in out


def test_who_may_come_before_the_command_and_commit_finds_the_user(
    store: dict[str, str],
) -> None:
    found = _ogmem("--user", "bob", "search", "sister Porto", env=store)
    committed = _ogmem("commit", "chat-1", env=store)

    assert f"{EVENTS}/" in found.stdout and "bob: My sister Ana lives in Porto" in found.stdout
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert "chat-1" in committed.stdout and "bob" in committed.stdout


def test_uris_are_whole_and_ls_shows_abstracts(store: dict[str, str]) -> None:
    listing = _ogmem("--user", "bob", "ls", EVENTS, env=store).stdout
    lines = [line for line in listing.splitlines() if line.startswith(EVENTS)]
    uris = [line.split()[0] for line in lines]

    assert len(uris) == 2 and all(len(line) > 80 for line in lines)  # wider than the terminal
    assert "bob: Slowly. I practise Portuguese every evening." in listing
    for uri in uris:  # each pastes into `ogmem cat` as it is
        assert _ogmem("--user", "bob", "cat", uri, env=store).returncode == 0


def test_every_read_command_speaks_json(store: dict[str, str]) -> None:
    listing = json.loads(_ogmem("--user", "bob", "ls", EVENTS, "--json", env=store).stdout)
    uri = listing[0]["uri"]
    reads = {
        "cat": ["cat", uri],
        "history": ["history", uri],
        "search": ["search", "Porto"],
        "compose": ["compose", "Porto"],
        "sessions": ["sessions"],
    }
    for name, command in reads.items():
        done = _ogmem("--user", "bob", *command, "--json", env=store)
        assert done.returncode == 0, (name, done.stderr)
        assert json.loads(done.stdout), name
    keys = _ogmem("keys", "list", "--json", env=store)
    assert json.loads(keys.stdout) == []


def test_key_ids_are_never_cut(store: dict[str, str]) -> None:
    created = _ogmem("keys", "create", "--account", "acme", env=store)
    assert created.returncode == 0, created.stderr
    key_id = json.loads(_ogmem("keys", "list", "--json", env=store).stdout)[0]["key_id"]

    table = _ogmem("keys", "list", env=store, columns=40).stdout

    assert key_id in table
    assert _ogmem("keys", "revoke", key_id, env=store).returncode == 0


def test_bad_inputs_are_one_line_errors_naming_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{bad")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    env = {"OGMEM_STORE": str(tmp_path / "s.sqlite")}
    cases = [
        (["ingest", str(tmp_path / "missing.json")], env, "missing.json"),
        (["ingest", str(bad)], env, "bad.json is not valid JSON"),
        (["ls"], {"OGMEM_STORE": "", "OGMEM_DATA_DIR": str(a_file)}, str(a_file)),
        (["ls"], {"OGMEM_STORE": str(tmp_path)}, f"{tmp_path} is a directory"),
    ]
    for command, environment, named in cases:
        done = _ogmem(*command, env=environment)
        output = (done.stdout + done.stderr).strip()
        assert done.returncode == 2, output
        assert "Traceback" not in output and len(output.splitlines()) == 1, output
        assert output.startswith("error:") and named in output, output


def test_reading_commands_work_with_a_wrong_embedder_setting(store: dict[str, str]) -> None:
    wrong = {**store, "OGMEM_EMBEDDER": "no-such-embedder"}
    uri = json.loads(_ogmem("--user", "bob", "ls", EVENTS, "--json", env=store).stdout)[0]["uri"]

    for command in (["ls", EVENTS], ["cat", uri], ["history", uri], ["sessions"]):
        done = _ogmem("--user", "bob", *command, env=wrong)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


def test_the_demo_fits_80_columns_and_says_what_to_try_next(tmp_path: Path) -> None:
    done = _ogmem("demo", "--data-dir", str(tmp_path))

    assert done.returncode == 0, done.stderr
    wide = [line for line in done.stdout.splitlines() if len(line) > 80]
    assert all(line.strip().endswith(str(tmp_path / "demo.sqlite")) for line in wide), wide
    tail = done.stdout.split("next, against this store:")[1]
    assert f"export OGMEM_STORE={tmp_path / 'demo.sqlite'}" in tail
    assert "--account demo --user alice" in tail and "cat $M/preferences/editor" in tail
