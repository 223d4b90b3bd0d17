"""What a new user meets first: the LICENSE, `ogmem --version`, `ogmem add`, and a one-line
"pip install 'ogmem[...]'" instead of a traceback when a command needs a missing extra."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import ogmem
from ogmem import cli

ROOT = Path(__file__).parents[2]
APACHE_2_MD5 = "3b83ef96387f14655fc854ddc3c6bd57"  # the text at apache.org/licenses/LICENSE-2.0


def _ogmem(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from ogmem.cli import main; main()", *args]
    environment = {**os.environ, "COLUMNS": "200", "OGMEM_EMBEDDER": "hash", **env}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)


def test_the_license_is_the_apache_2_text_pyproject_names() -> None:
    license_text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.md5(license_text).hexdigest() == APACHE_2_MD5
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"


def test_version(tmp_path: Path) -> None:
    done = _ogmem("--version", env={"OGMEM_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0 and done.stdout.strip() == f"ogmem {ogmem.__version__}"


def test_keys_create_prints_the_key_alone_on_stdout(tmp_path: Path) -> None:
    done = _ogmem("keys", "create", "--account", "acme", env={"OGMEM_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0 and done.stdout.startswith("ogm_")
    assert done.stdout.count("\n") == 1 and "store it now" in done.stderr


def test_add_writes_one_memory_and_says_what_happened(tmp_path: Path) -> None:
    env = {"OGMEM_DATA_DIR": str(tmp_path)}
    done = _ogmem("add", "I prefer dark roast coffee.", "--user", "alice",
                  "--category", "preference", "--meta", "source=cli", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    uri = "ctx://default/users/alice/memories/preferences/prefer-dark-roast-coffee"
    assert done.stdout.startswith(f"written {uri}: ")
    again = _ogmem("add", "I prefer dark roast coffee.", "--user", "alice",
                   "--category", "preference", env=env)  # fmt: skip
    assert again.returncode == 0 and again.stdout.startswith("skipped preference: duplicate")
    assert uri in again.stdout
    found = _ogmem("search", "coffee", "--user", "alice", env=env)
    assert "prefer-dark-roast-coffee" in found.stdout
    bad = _ogmem("add", "x", "--category", "nope", env=env)
    assert bad.returncode == 1 and "unknown memory category 'nope'" in bad.stdout


EXTRAS = {  # command, environment -> (module made missing, the extra to install)
    "serve": (["serve"], {}, "uvicorn", "server"),
    "mcp": (["mcp"], {}, "mcp", "mcp"),
    "postgres": (["ls"], {"OGMEM_STORE": "postgresql://u@127.0.0.1:1/x"}, "psycopg", "postgres"),
}


@pytest.mark.parametrize("case", EXTRAS.values(), ids=list(EXTRAS))
def test_a_missing_extra_is_one_line_naming_the_pip_command(
    case: tuple[list[str], dict[str, str], str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    args, env, module, extra = case
    monkeypatch.setitem(sys.modules, module, None)  # as on a base install: import fails
    for loaded in [m for m in sys.modules if m.startswith("ogmem.store.postgres")]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setenv("OGMEM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OGMEM_EMBEDDER", "hash")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["ogmem", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    output = capsys.readouterr()
    text = output.out + output.err
    assert exited.value.code == 2, text
    assert f"pip install 'ogmem[{extra}]'" in text and f"no module {module}" in text
    assert len(text.strip().splitlines()) == 1 and "Traceback" not in text
