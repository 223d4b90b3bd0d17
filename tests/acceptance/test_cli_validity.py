"""`ogmem add --valid-from`, `search --as-of` and `cat --as-of` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.acceptance.test_cli import _ogmem

HOME = "ctx://default/users/bob/memories/entities/alice-home"


def _env(tmp_path: Path) -> dict[str, str]:
    return {"OGMEM_STORE": str(tmp_path / "s.sqlite"), "OGMEM_EMBEDDER": "hash"}


def _add(env: dict[str, str], text: str, valid_from: str) -> None:
    added = _ogmem(
        "add", text, "--user", "bob", "--category", "entity", "--key", "alice-home",
        "--meta", "kind=person", "--valid-from", valid_from, env=env,
    )  # fmt: skip
    assert added.returncode == 0 and added.stdout.startswith("written"), added.stdout


def test_search_and_cat_as_of(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _add(env, "Alice lives in Paris.", "2019-06-01")
    _add(env, "Alice lives in Berlin now.", "2024-03-01")
    now = _ogmem("search", "where does Alice live", "--user", "bob", "--json", env=env)
    hits = json.loads(now.stdout)["hits"]
    assert [(h["uri"], h["superseded"]) for h in hits[:2]] == [
        (HOME, False), (HOME + ".v1", True),
    ]  # fmt: skip
    shown = _ogmem("search", "where does Alice live", "--user", "bob", env=env).stdout
    assert "(superseded 2024-03-01)" in shown
    then = _ogmem(
        "search", "where did Alice live", "--user", "bob", "--as-of", "2022-06-01", "--json",
        env=env,
    )  # fmt: skip
    assert json.loads(then.stdout)["hits"][0]["uri"] == HOME + ".v1"
    read = _ogmem("cat", HOME, "--user", "bob", "--as-of", "2022-06-01", "--json", env=env)
    node = json.loads(read.stdout)
    assert node["abstract"] == "Alice lives in Paris." and node["valid_to"].startswith("2024-03")


def test_a_bad_as_of_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = _ogmem("cat", HOME, "--user", "bob", "--as-of", "yesterday", env=_env(tmp_path))
    assert bad.returncode != 0 and "--as-of" in bad.stderr and "Traceback" not in bad.stderr
